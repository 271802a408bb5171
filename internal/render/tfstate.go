package render

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchyard/switchyard/deploy"
)

// S3Getter is the S3 call a state in S3 needs. *s3.Client satisfies it.
type S3Getter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// TFState is a Terraform state file (format version 4), read-only.
type TFState struct {
	name      string
	Outputs   map[string]tfOutput `json:"outputs"`
	Resources []tfResource        `json:"resources"`
}

type tfOutput struct {
	Value any `json:"value"`
}

type tfResource struct {
	Module    string       `json:"module"`
	Mode      string       `json:"mode"`
	Type      string       `json:"type"`
	Name      string       `json:"name"`
	Instances []tfInstance `json:"instances"`
}

type tfInstance struct {
	IndexKey   any            `json:"index_key"`
	Attributes map[string]any `json:"attributes"`
}

// ParseTFState reads a Terraform state; name names it in errors.
func ParseTFState(name string, data []byte) (*TFState, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var st TFState
	if err := dec.Decode(&st); err != nil {
		return nil, deploy.Invalid("tfstate", name, "malformed state: "+err.Error())
	}
	st.name = name
	return &st, nil
}

// LoadTFState reads a state from loc: "s3://bucket/key" (through s3c),
// "file://path", or a path (relative to baseDir).
func LoadTFState(ctx context.Context, loc, baseDir string, s3c S3Getter) (*TFState, error) {
	u, err := url.Parse(loc)
	if err == nil && u.Scheme == "s3" {
		if s3c == nil {
			return nil, deploy.Invalid("tfstate.url", loc, "no S3 client to read it with")
		}
		key := strings.TrimPrefix(u.Path, "/")
		if u.Host == "" || key == "" {
			return nil, deploy.Invalid("tfstate.url", loc, "want s3://bucket/key")
		}
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(u.Host), Key: aws.String(key)})
		if err != nil {
			return nil, fmt.Errorf("tfstate %s: %w", loc, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			return nil, fmt.Errorf("tfstate %s: %w", loc, err)
		}
		return ParseTFState(loc, b)
	}
	path := loc
	if err == nil && u.Scheme == "file" {
		path = u.Path
	} else if err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		return nil, deploy.Invalid("tfstate.url", loc, "want s3://bucket/key, file://path or a path")
	}
	if !filepath.IsAbs(path) && baseDir != "" {
		path = filepath.Join(baseDir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, deploy.Invalid("tfstate.path", loc, err.Error())
	}
	return ParseTFState(loc, b)
}

// segment is one dotted part of an address: a name with optional
// indexes ("name", "name[0]", `name["k"]`).
type segment struct {
	name string
	keys []any // string or json.Number-compatible int
}

// splitAddress splits a Terraform address on the dots outside brackets.
func splitAddress(addr string) ([]segment, error) {
	var segs []segment
	var cur strings.Builder
	var keys []any
	flush := func() error {
		if cur.Len() == 0 && len(keys) == 0 {
			return fmt.Errorf("empty part")
		}
		segs = append(segs, segment{name: cur.String(), keys: keys})
		cur.Reset()
		keys = nil
		return nil
	}
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		switch c {
		case '.':
			if err := flush(); err != nil {
				return nil, err
			}
		case '[':
			end := strings.IndexByte(addr[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [")
			}
			inner := addr[i+1 : i+end]
			if len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\'') && inner[len(inner)-1] == inner[0] {
				k := inner[1 : len(inner)-1]
				if strings.ContainsAny(k, `"'`) {
					return nil, fmt.Errorf("bad key %s", inner)
				}
				keys = append(keys, k)
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("bad index [%s]", inner)
				}
				keys = append(keys, n)
			}
			i += end
		default:
			if len(keys) > 0 {
				return nil, fmt.Errorf("text after an index")
			}
			cur.WriteByte(c)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return segs, nil
}

func moduleString(s segment) string {
	out := "module." + s.name
	for _, k := range s.keys {
		switch k := k.(type) {
		case string:
			out += `["` + k + `"]`
		default:
			out += fmt.Sprintf("[%v]", k)
		}
	}
	return out
}

// Lookup returns the value at a Terraform address: "output.NAME[.path]",
// or "[module.M[KEY].]...[data.]TYPE.NAME[KEY].ATTR[.path]" where a path
// walks into objects by name and lists by [N].
func (st *TFState) Lookup(addr string) (any, error) {
	fail := func(reason string) error { return deploy.Invalid("tfstate", addr, reason+" in "+st.name) }
	segs, err := splitAddress(addr)
	if err != nil {
		return nil, deploy.Invalid("tfstate", addr, "bad address: "+err.Error())
	}
	if segs[0].name == "output" && len(segs[0].keys) == 0 {
		if len(segs) < 2 {
			return nil, fail("no output named")
		}
		o, ok := st.Outputs[segs[1].name]
		if !ok {
			return nil, fail("no such output")
		}
		return walk(o.Value, append([]segment{{keys: segs[1].keys}}, segs[2:]...), fail)
	}
	var modules []string
	for len(segs) >= 2 && segs[0].name == "module" && len(segs[0].keys) == 0 {
		modules = append(modules, moduleString(segs[1]))
		segs = segs[2:]
	}
	mode := "managed"
	if len(segs) > 0 && segs[0].name == "data" && len(segs[0].keys) == 0 {
		mode = "data"
		segs = segs[1:]
	}
	if len(segs) < 3 {
		return nil, fail("want TYPE.NAME.ATTRIBUTE")
	}
	module := strings.Join(modules, ".")
	typ, name := segs[0], segs[1]
	for _, r := range st.Resources {
		if r.Module != module || r.Mode != mode || r.Type != typ.name || r.Name != name.name {
			continue
		}
		for _, in := range r.Instances {
			if !indexMatches(in.IndexKey, name.keys) {
				continue
			}
			return walk(in.Attributes, segs[2:], fail)
		}
		return nil, fail("no such instance")
	}
	return nil, fail("no such resource")
}

func indexMatches(key any, want []any) bool {
	if len(want) == 0 {
		return key == nil
	}
	if len(want) != 1 {
		return false
	}
	switch w := want[0].(type) {
	case string:
		k, ok := key.(string)
		return ok && k == w
	case int:
		k, ok := key.(json.Number)
		return ok && k.String() == strconv.Itoa(w)
	}
	return false
}

func walk(v any, segs []segment, fail func(string) error) (any, error) {
	for _, s := range segs {
		if s.name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fail("not an object at " + s.name)
			}
			if v, ok = m[s.name]; !ok {
				return nil, fail("no attribute " + s.name)
			}
		}
		for _, k := range s.keys {
			switch k := k.(type) {
			case int:
				l, ok := v.([]any)
				if !ok || k >= len(l) {
					return nil, fail(fmt.Sprintf("no element [%d]", k))
				}
				v = l[k]
			case string:
				m, ok := v.(map[string]any)
				if !ok {
					return nil, fail("no key " + k)
				}
				if v, ok = m[k]; !ok {
					return nil, fail("no key " + k)
				}
			}
		}
	}
	return v, nil
}

// LookupString is Lookup with the value as text: strings as they are,
// null as "", anything else as JSON.
func (st *TFState) LookupString(addr string) (string, error) {
	v, err := st.Lookup(addr)
	if err != nil {
		return "", err
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case nil:
		return "", nil
	case json.Number:
		return t.String(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", deploy.Invalid("tfstate", addr, err.Error())
	}
	return string(b), nil
}
