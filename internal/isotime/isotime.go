// Package isotime lets a JSON-protocol AWS client read ISO-8601 timestamps
// where the protocol wants epoch seconds, as emulators such as moto send
// them for CodeDeploy.
package isotime

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
)

// Client wraps next so that, in JSON response bodies, every string value
// under a key ending in "Time", "At", "Date" or "Timestamp" that parses as
// RFC 3339 becomes epoch seconds with millisecond precision. Other bodies
// pass unchanged.
func Client(next aws.HTTPClient) aws.HTTPClient { return isoToEpoch{next: next} }

type isoToEpoch struct{ next aws.HTTPClient }

func (c isoToEpoch) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("isotime: read response: %w", err)
	}
	if out, ok := Rewrite(body); ok {
		body = out
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// Rewrite rewrites the timestamps of a JSON document as
// Client describes. It reports false, and returns body
// unchanged, when body is not a JSON object or array or has nothing to
// rewrite.
func Rewrite(body []byte) ([]byte, bool) {
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
