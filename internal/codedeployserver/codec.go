package codedeployserver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
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

// members returns the serialised fields of struct type t.
func members(t reflect.Type) []member {
	var out []member
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous || f.Type == metadataType {
			continue
		}
		out = append(out, member{index: i, key: wireName(t, f)})
	}
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
	doc, _, err := encodeValue(reflect.ValueOf(v), "")
	if err != nil {
		return nil, err
	}
	if doc == nil {
		doc = map[string]any{}
	}
	return json.Marshal(doc)
}

// encodeValue converts v to a JSON-ready value; ok is false when v is
// absent (nil, or a zero scalar that the SDK leaves out).
func encodeValue(v reflect.Value, path string) (doc any, ok bool, err error) {
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		return json.Number(strconv.FormatFloat(smithytime.FormatEpochSeconds(t), 'f', -1, 64)), !t.IsZero(), nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false, nil
		}
		// A pointer to a zero value is still sent: the caller set it.
		doc, _, err := encodeValue(v.Elem(), path)
		return doc, err == nil, err
	case reflect.Struct:
		obj := map[string]any{}
		// A struct is present even when empty: the SDK sends {} for a set
		// pointer to an empty shape.
		for _, m := range members(v.Type()) {
			d, ok, err := encodeValue(v.Field(m.index), path+"."+m.key)
			if err != nil {
				return nil, false, err
			}
			if ok {
				obj[m.key] = d
			}
		}
		return obj, true, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, false, nil
		}
		if v.Type() == bytesType {
			return base64.StdEncoding.EncodeToString(v.Bytes()), true, nil
		}
		arr := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			// Elements are sent even when zero.
			d, _, err := encodeValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, false, err
			}
			arr = append(arr, d)
		}
		return arr, true, nil
	case reflect.Map:
		if v.IsNil() {
			return nil, false, nil
		}
		if v.Type().Key().Kind() != reflect.String {
			return nil, false, fmt.Errorf("%s: map key type %s", path, v.Type().Key())
		}
		obj := map[string]any{}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			d, _, err := encodeValue(v.MapIndex(k), path+"."+k.String())
			if err != nil {
				return nil, false, err
			}
			obj[k.String()] = d
		}
		return obj, true, nil
	case reflect.String:
		return v.String(), v.Len() > 0, nil
	case reflect.Bool:
		return v.Bool(), v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), v.Int() != 0, nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		return floatDoc(f), f != 0, nil
	}
	return nil, false, fmt.Errorf("%s: cannot encode %s", path, v.Type())
}

func floatDoc(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
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
