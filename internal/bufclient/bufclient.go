// Package bufclient has the HTTP client the wire-level tests give the real
// SDK clients when they talk to a loopback server (moto_server, the
// CodeDeploy JSON endpoint).
package bufclient

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// Client is an aws.HTTPClient that reads each request body
// into memory and sends a copy, so the body the transport writes is never
// the SDK's own.
//
// Why: after the response headers arrive, smithy-go closes the request
// body it built (a reader whose WriteTo answers io.EOF once closed), while
// net/http's connection writer may still be finishing that body (it copies
// what follows Content-Length to io.Discard). The writer then sees io.EOF
// as a write error and closes the connection under the response being
// read, and the call fails with "use of closed network connection". Real
// AWS endpoints answer too slowly to lose that race; a loopback server
// loses it about once in a few hundred calls. With a copy, the SDK's
// close no longer reaches the transport. The SDK's serializers,
// middleware and deserializers still run unchanged.
type Client struct {
	// HTTP sends the requests. Default http.DefaultClient.
	HTTP *http.Client
}

// Do sends r with its body replaced by an in-memory copy.
func (c Client) Do(r *http.Request) (*http.Response, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	if r.Body == nil || r.Body == http.NoBody {
		return hc.Do(r)
	}
	data, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("bufclient: reading the request body: %w", err)
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r.ContentLength = int64(len(data))
	return hc.Do(r)
}
