// Package motoserver starts moto_server, an AWS emulator, for wire-level
// tests of the real SDK clients. Tests that use it are skipped with a clear
// message where moto_server is not installed.
package motoserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/switchyard/switchyard/internal/bufclient"
)

// Server is a running moto_server.
type Server struct {
	// URL is the endpoint, such as "http://127.0.0.1:41234".
	URL string
	// Region is the region the server's clients use.
	Region string
}

// Start runs moto_server on a free loopback port until the test ends. env
// adds environment variables such as "MOTO_ECS_SERVICE_RUNNING=2". It skips
// the test when moto_server is not on PATH.
func Start(t testing.TB, env ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not installed (pip install 'moto[server]'); skipping wire-level test")
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("motoserver: no free port: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("motoserver: start: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Region: "us-east-1"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case <-done:
			t.Fatalf("motoserver: exited early: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("motoserver: not ready after 30s: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Config returns an aws.Config for the server: static test credentials, the
// server's region and endpoint, one attempt per call (moto answers
// operations it does not implement with an HTML 500, which is not worth
// retrying), and an HTTP client that sends copies of request bodies (see
// bufclient.Client: loopback servers answer fast enough to race the SDK's
// closing of the body).
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:           s.Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       bufclient.Client{},
	}
}

// Reset clears every resource the server holds.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("motoserver: reset: %v", err)
	}
	resp.Body.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
