package motoserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
)

// CodeDeployHTTPClient returns an aws.HTTPClient for CodeDeploy clients that
// talk to moto_server. moto answers GetDeployment, BatchGetDeployments and
// friends with ISO-8601 timestamps ("2025-03-01T12:00:00.123Z"), while the
// awsJson 1.1 protocol, and so the Go decoder, wants epoch seconds ("expected
// Timestamp to be a JSON Number, got string instead"). The client sends
// requests with a plain *http.Client and rewrites, in JSON response bodies,
// every string value under a key ending in "Time", "At", "Date" or
// "Timestamp" that parses as RFC 3339 into epoch seconds with millisecond
// precision. Other bodies (moto's HTML 500 for operations it lacks) pass
// unchanged. Use it as
//
//	cfg := s.Config()
//	cfg.HTTPClient = motoserver.CodeDeployHTTPClient()
//	cd := codedeploy.NewFromConfig(cfg)
//
// or call s.CodeDeploy(). Besides the timestamps, moto keeps CodeDeploy
// deployments in Created and lacks most operations (StopDeployment,
// ContinueDeployment, ListDeploymentTargets, ...), so progression needs the
// codedeployfake package.
func CodeDeployHTTPClient() aws.HTTPClient {
	return WithISOTimestampsAsEpoch(&http.Client{})
}

// WithISOTimestampsAsEpoch wraps next with the response rewriting that
// CodeDeployHTTPClient describes.
func WithISOTimestampsAsEpoch(next aws.HTTPClient) aws.HTTPClient {
	return isoToEpoch{next: next}
}

// CodeDeploy returns a CodeDeploy client for the server that uses
// CodeDeployHTTPClient.
func (s *Server) CodeDeploy() *codedeploy.Client {
	cfg := s.Config()
	cfg.HTTPClient = CodeDeployHTTPClient()
	return codedeploy.NewFromConfig(cfg)
}

type isoToEpoch struct{ next aws.HTTPClient }

func (c isoToEpoch) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("motoserver: read response: %w", err)
	}
	if out, ok := RewriteISOTimestamps(body); ok {
		body = out
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// RewriteISOTimestamps rewrites the timestamps of a JSON document as
// CodeDeployHTTPClient describes. It reports false, and returns body
// unchanged, when body is not a JSON object or array or has nothing to
// rewrite.
func RewriteISOTimestamps(body []byte) ([]byte, bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return body, false
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body, false
	}
	if !rewrite(v) {
		return body, false
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body, false
	}
	return out, true
}

func rewrite(v any) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && timeKey(k) {
				if n, ok := epoch(s); ok {
					x[k] = n
					changed = true
				}
				continue
			}
			changed = rewrite(val) || changed
		}
	case []any:
		for _, val := range x {
			changed = rewrite(val) || changed
		}
	}
	return changed
}

func timeKey(k string) bool {
	for _, suf := range []string{"Time", "At", "Date", "Timestamp", "time", "timestamp"} {
		if strings.HasSuffix(k, suf) {
			return true
		}
	}
	return false
}

func epoch(s string) (json.Number, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// moto sometimes leaves the zone out.
		if t, err = time.Parse("2006-01-02T15:04:05.999999999", s); err != nil {
			return "", false
		}
	}
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	return json.Number(fmt.Sprintf("%d.%03d", sec, frac)), true
}
