// Package render turns the definition files ecspresso and lambroll users
// already have into plain JSON: Go templates with their functions (env,
// must_env, json_escape, tfstate, tfstatef) and Jsonnet files evaluated
// with the same functions as native functions (std.native("must_env")).
// A rendered file that still holds "{{" is refused: a placeholder that
// reached AWS would be registered literally.
//
// Every failure is a *deploy.ValidationError (bad input, refused before any
// AWS call). Errors name variables and files, never their values.
package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/template"

	"github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"

	"github.com/switchyard/switchyard/deploy"
)

// Options say where rendering reads its inputs. The zero value reads the
// process environment and offers no tfstate functions.
type Options struct {
	// LookupEnv reads an environment variable. Default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// States are the Terraform states the tfstate functions read, each
	// under its function-name prefix.
	States []State
	// ExtStr and ExtCode are Jsonnet external variables (std.extVar), as
	// strings and as Jsonnet code.
	ExtStr, ExtCode map[string]string
}

// State is a Terraform state offered as the template functions
// Prefix+"tfstate" and Prefix+"tfstatef" (and Jsonnet native functions of
// the same names).
type State struct {
	Prefix string
	State  *TFState
}

func (o Options) lookup(name string) (string, bool) {
	if o.LookupEnv != nil {
		return o.LookupEnv(name)
	}
	return os.LookupEnv(name)
}

// missingEnvError is a must_env of an unset variable.
type missingEnvError struct{ name string }

// Error names the variable, never a value.
func (e *missingEnvError) Error() string {
	return fmt.Sprintf("environment variable %s is not set (must_env)", e.name)
}

// outside collects the values rendering takes from outside the file
// (environment variables, Terraform states, Jsonnet external variables and
// the strings in external code), so that errors can leave them out:
// Jsonnet's quote the values they fail on ("RUNTIME ERROR: hunter2 is not
// a base 10 integer").
type outside struct {
	mu   sync.Mutex
	vals []string
}

// add records v and returns it.
func (s *outside) add(v string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals = append(s.vals, v)
	return v
}

// addOf records a function's string result, unless it failed.
func (s *outside) addOf(v string, err error) (string, error) {
	if err == nil {
		s.add(v)
	}
	return v, err
}

// minHidden is the length of the shortest value errors leave out: shorter
// ones ("1", "no") are no secrets, and replacing them would garble the
// message.
const minHidden = 3

// hide returns msg with every recorded value replaced by deploy.Redacted,
// longest first.
func (s *outside) hide(msg string) string {
	s.mu.Lock()
	vals := slices.Clone(s.vals)
	s.mu.Unlock()
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		if len(v) >= minHidden {
			msg = strings.ReplaceAll(msg, v, deploy.Redacted)
		}
	}
	return msg
}

// jsonnetString is a string literal of Jsonnet code.
var jsonnetString = regexp.MustCompile(`'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"`)

// funcs are the template functions; seen records what they return.
func (o Options) funcs(seen *outside) template.FuncMap {
	fm := template.FuncMap{
		"env": func(name string, def ...string) string {
			if v, ok := o.lookup(name); ok && v != "" {
				return seen.add(v)
			}
			if len(def) > 0 {
				return def[0]
			}
			return ""
		},
		"must_env": func(name string) (string, error) {
			v, ok := o.lookup(name)
			if !ok {
				return "", &missingEnvError{name}
			}
			return seen.add(v), nil
		},
		"json_escape": JSONEscape,
	}
	for _, s := range o.States {
		st := s.State
		fm[s.Prefix+"tfstate"] = func(addr string) (string, error) { return seen.addOf(st.LookupString(addr)) }
		fm[s.Prefix+"tfstatef"] = func(format string, args ...any) (string, error) {
			return seen.addOf(st.LookupString(fmt.Sprintf(format, args...)))
		}
	}
	return fm
}

// JSONEscape returns s escaped for the inside of a JSON string (without
// the surrounding quotes), as ecspresso's json_escape does.
func JSONEscape(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// Template renders data (the file name names it in errors) as a Go
// template with the functions of o, and refuses a result that still holds
// "{{".
func Template(name string, data []byte, o Options) ([]byte, error) {
	out, err := template1(name, data, o)
	if err != nil {
		return nil, err
	}
	return out, checkRendered(name, out)
}

func template1(name string, data []byte, o Options) ([]byte, error) {
	var seen outside
	t, err := template.New(filepath.Base(name)).Funcs(o.funcs(&seen)).Option("missingkey=error").Parse(string(data))
	if err != nil {
		return nil, deploy.Invalid("template", name, "bad template: "+err.Error())
	}
	var b bytes.Buffer
	if err := t.Execute(&b, nil); err != nil {
		var me *missingEnvError
		if errors.As(err, &me) {
			return nil, deploy.Invalid("template", name, me.Error())
		}
		return nil, deploy.Invalid("template", name, "rendering failed: "+seen.hide(err.Error()))
	}
	return b.Bytes(), nil
}

// checkRendered refuses any "{{" left in a rendered file.
func checkRendered(name string, out []byte) error {
	if i := bytes.Index(out, []byte("{{")); i >= 0 {
		line := 1 + bytes.Count(out[:i], []byte("\n"))
		return deploy.Invalid("template", name, fmt.Sprintf("an unrendered placeholder \"{{\" is left on line %d", line))
	}
	return nil
}

// IsJsonnet says whether path names a Jsonnet file (.jsonnet or
// .libsonnet).
func IsJsonnet(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".jsonnet" || ext == ".libsonnet"
}

// File renders the content of the file at path: a Jsonnet file is
// evaluated first (imports resolve next to it); the result, or the file
// itself, is then rendered as a template and refused if "{{" is left.
func File(path string, data []byte, o Options) ([]byte, error) {
	if IsJsonnet(path) {
		j, err := Jsonnet(path, data, o)
		if err != nil {
			return nil, err
		}
		data = j
	}
	return Template(path, data, o)
}

// ReadFile reads and renders the file at path (see File).
func ReadFile(path string, o Options) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, deploy.Invalid("file", path, err.Error())
	}
	return File(path, b, o)
}

// Jsonnet evaluates data as Jsonnet with the native functions env,
// must_env, json_escape and each state's tfstate (std.native("must_env")
// and so on) and the external variables of o.
func Jsonnet(path string, data []byte, o Options) ([]byte, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(&jsonnet.FileImporter{JPaths: []string{filepath.Dir(path)}})
	var seen outside
	for k, v := range o.ExtStr {
		vm.ExtVar(k, seen.add(v))
	}
	for k, v := range o.ExtCode {
		vm.ExtCode(k, seen.add(v))
		for _, lit := range jsonnetString.FindAllString(v, -1) {
			seen.add(lit[1 : len(lit)-1])
		}
	}
	var missing *missingEnvError
	str := func(args []any, i int) (string, error) {
		if i >= len(args) {
			return "", fmt.Errorf("argument %d is missing", i+1)
		}
		s, ok := args[i].(string)
		if !ok {
			return "", fmt.Errorf("argument %d must be a string", i+1)
		}
		return s, nil
	}
	vm.NativeFunction(&jsonnet.NativeFunction{Name: "env", Params: ast.Identifiers{"name", "default"},
		Func: func(args []any) (any, error) {
			name, err := str(args, 0)
			if err != nil {
				return nil, err
			}
			if v, ok := o.lookup(name); ok && v != "" {
				return seen.add(v), nil
			}
			return str(args, 1)
		}})
	vm.NativeFunction(&jsonnet.NativeFunction{Name: "must_env", Params: ast.Identifiers{"name"},
		Func: func(args []any) (any, error) {
			name, err := str(args, 0)
			if err != nil {
				return nil, err
			}
			v, ok := o.lookup(name)
			if !ok {
				missing = &missingEnvError{name}
				return nil, missing
			}
			return seen.add(v), nil
		}})
	vm.NativeFunction(&jsonnet.NativeFunction{Name: "json_escape", Params: ast.Identifiers{"s"},
		Func: func(args []any) (any, error) {
			s, err := str(args, 0)
			if err != nil {
				return nil, err
			}
			return JSONEscape(s), nil
		}})
	for _, s := range o.States {
		st := s.State
		vm.NativeFunction(&jsonnet.NativeFunction{Name: s.Prefix + "tfstate", Params: ast.Identifiers{"address"},
			Func: func(args []any) (any, error) {
				addr, err := str(args, 0)
				if err != nil {
					return nil, err
				}
				return seen.addOf(st.LookupString(addr))
			}})
	}
	out, err := vm.EvaluateAnonymousSnippet(path, string(data))
	if err != nil {
		if missing != nil {
			return nil, deploy.Invalid("jsonnet", path, missing.Error())
		}
		return nil, deploy.Invalid("jsonnet", path, "evaluation failed: "+seen.hide(firstLine(err.Error())))
	}
	return []byte(out), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
