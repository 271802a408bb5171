package codedeployserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/middleware"
	smithytime "github.com/aws/smithy-go/time"
)

// The codec converts between the SDK's Go shapes (inputs, outputs and
// types.*) and CodeDeploy's awsJson1.1 documents by reflection. The rules
// follow the SDK's generated serializers.go and deserializers.go:
//
//   - a member's JSON key is its Go field name with the first letter in
//     lower case and a trailing underscore dropped (String_ is "string"),
//     except in the shapes listed in pascalShapes, whose model members are
//     capitalised (DeploymentOverview's "Pending", Tag's "Key", ...);
//   - nil pointers, nil slices and maps, empty enums and zero scalars that
//     are not pointers are left out, as the SDK's serializers do;
//   - timestamps are epoch seconds with millisecond precision;
//   - blobs are base64; floats that are not finite are the strings "NaN",
//     "Infinity" and "-Infinity";
//   - unexported fields and the outputs' ResultMetadata are not members.

// pascalShapes are the shapes whose JSON keys are the Go field names as
// they are.
var pascalShapes = map[string]bool{
	"DeploymentOverview":        true,
	"Tag":                       true,
	"TagFilter":                 true,
	"EC2TagFilter":              true,
	"ListTagsForResourceInput":  true,
	"ListTagsForResourceOutput": true,
	"TagResourceInput":          true,
	"UntagResourceInput":        true,
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	metadataType = reflect.TypeOf(middleware.Metadata{})
	bytesType    = reflect.TypeOf([]byte(nil))
)

// member is one serialised field of a struct.
type member struct {
	index int
	key   string
}

// memberCache maps a struct type to its []member.
var memberCache sync.Map

// members returns the serialised fields of struct type t.
func members(t reflect.Type) []member {
	if m, ok := memberCache.Load(t); ok {
		return m.([]member)
	}
	var out []member
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous || f.Type == metadataType {
			continue
		}
		out = append(out, member{index: i, key: wireName(t, f)})
	}
	memberCache.Store(t, out)
	return out
}

// wireName is the JSON key of field f of struct type t.
func wireName(t reflect.Type, f reflect.StructField) string {
	name := strings.TrimSuffix(f.Name, "_")
	if pascalShapes[t.Name()] {
		return name
	}
	return strings.ToLower(name[:1]) + name[1:]
}

// encode returns v (a pointer to an SDK shape) as a JSON document.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return []byte("{}"), nil
	}
	if err := encodeValue(&b, rv, ""); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// present reports whether the SDK would send v as a member: nil pointers,
// nil slices and maps, empty strings, false and zero numbers and times that
// are not behind a pointer are left out. Structs are always sent (a set
// pointer to an empty shape is {}).
func present(v reflect.Value) bool {
	if v.Type() == timeType {
		return !v.Interface().(time.Time).IsZero()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return !v.IsNil()
	case reflect.String:
		return v.Len() > 0
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() != 0
	case reflect.Float32, reflect.Float64:
		return v.Float() != 0
	}
	return true
}

// encodeValue writes v as JSON. Elements of lists and maps, and values
// behind pointers, are written even when zero: the caller set them.
func encodeValue(b *bytes.Buffer, v reflect.Value, path string) error {
	if v.Type() == timeType {
		b.WriteString(strconv.FormatFloat(smithytime.FormatEpochSeconds(v.Interface().(time.Time)), 'f', -1, 64))
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		return encodeValue(b, v.Elem(), path)
	case reflect.Struct:
		b.WriteByte('{')
		first := true
		for _, m := range members(v.Type()) {
			f := v.Field(m.index)
			if !present(f) {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeString(b, m.key)
			b.WriteByte(':')
			if err := encodeValue(b, f, path+"."+m.key); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		if v.Type() == bytesType {
			writeString(b, base64.StdEncoding.EncodeToString(v.Bytes()))
			return nil
		}
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encodeValue(b, v.Index(i), path); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%s: map key type %s", path, v.Type().Key())
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k.String())
			b.WriteByte(':')
			if err := encodeValue(b, v.MapIndex(k), path+"."+k.String()); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case reflect.String:
		writeString(b, v.String())
		return nil
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
		return nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			b.WriteString(`"NaN"`)
		case math.IsInf(f, 1):
			b.WriteString(`"Infinity"`)
		case math.IsInf(f, -1):
			b.WriteString(`"-Infinity"`)
		default:
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
		return nil
	}
	return fmt.Errorf("%s: cannot encode %s", path, v.Type())
}

// writeString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			b.WriteString(`\u`)
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// decode reads the JSON document data into out, a pointer to an SDK shape.
// Unknown keys and values of the wrong JSON type are errors, so a request
// whose keys this codec does not know is refused rather than half read.
func decode(data []byte, out any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var doc any
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := dec.Decode(&doc); err != nil {
			return err
		}
		if dec.More() {
			return fmt.Errorf("trailing data after the JSON document")
		}
	}
	if doc == nil {
		doc = map[string]any{}
	}
	return decodeValue(reflect.ValueOf(out).Elem(), doc, "")
}

func decodeValue(v reflect.Value, doc any, path string) error {
	if doc == nil {
		v.SetZero()
		return nil
	}
	if v.Type() == timeType {
		f, err := number(doc, path)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(smithytime.ParseEpochSeconds(f)))
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := decodeValue(p.Elem(), doc, path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", path, doc)
		}
		byKey := map[string]int{}
		for _, m := range members(v.Type()) {
			byKey[m.key] = m.index
		}
		for k, x := range obj {
			i, ok := byKey[k]
			if !ok {
				return fmt.Errorf("%s: unknown member %q of %s", path, k, v.Type().Name())
			}
			if err := decodeValue(v.Field(i), x, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if v.Type() == bytesType {
			s, ok := doc.(string)
			if !ok {
				return fmt.Errorf("%s: want a base64 string, got %T", path, doc)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			v.SetBytes(b)
			return nil
		}
		arr, ok := doc.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, got %T", path, doc)
		}
		s := reflect.MakeSlice(v.Type(), len(arr), len(arr))
		for i, x := range arr {
			if err := decodeValue(s.Index(i), x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		obj, ok := doc.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", path, doc)
		}
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%s: map key type %s", path, v.Type().Key())
		}
		m := reflect.MakeMapWithSize(v.Type(), len(obj))
		for k, x := range obj {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(e, x, path+"."+k); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(m)
		return nil
	case reflect.String:
		s, ok := doc.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, got %T", path, doc)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := doc.(bool)
		if !ok {
			return fmt.Errorf("%s: want a boolean, got %T", path, doc)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := doc.(json.Number)
		if !ok {
			return fmt.Errorf("%s: want a number, got %T", path, doc)
		}
		i, err := n.Int64()
		if err != nil || v.OverflowInt(i) {
			return fmt.Errorf("%s: %s is not a %s", path, n, v.Type())
		}
		v.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		f, err := number(doc, path)
		if err != nil {
			return err
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("%s: cannot decode into %s", path, v.Type())
}

// number reads a JSON number, or one of the strings the SDK uses for
// floats that are not finite.
func number(doc any, path string) (float64, error) {
	switch x := doc.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		return f, nil
	case string:
		switch x {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return 0, fmt.Errorf("%s: want a number, got %T", path, doc)
}
