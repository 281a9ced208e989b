package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"slices"
)

// junitElement is what Jenkins' JUnit schema (xunit-plugin's
// junit-10.xsd, the strictest JUnit schema CI tools read) allows of one
// element: its attributes, which of them are required, and its children.
type junitElement struct {
	attrs    []string
	required []string
	children []string
	text     bool // it may hold text
}

// junitSchema is junit-10.xsd's element declarations.
var junitSchema = map[string]junitElement{
	"testsuites": {attrs: []string{"name", "time", "tests", "failures", "errors"}, children: []string{"testsuite"}},
	"testsuite": {
		attrs:    []string{"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url"},
		required: []string{"name", "tests", "failures", "errors"},
		children: []string{"testsuite", "properties", "testcase", "system-out", "system-err"},
	},
	"properties": {children: []string{"property"}},
	"property":   {attrs: []string{"name", "value"}, required: []string{"name", "value"}},
	"testcase": {
		attrs:    []string{"name", "time", "classname", "group"},
		required: []string{"name"},
		children: []string{"skipped", "error", "failure", "rerunFailure", "rerunError", "flakyFailure", "flakyError", "system-out", "system-err"},
	},
	"failure":    {attrs: []string{"type", "message"}, text: true},
	"error":      {attrs: []string{"type", "message"}, text: true},
	"skipped":    {attrs: []string{"type", "message"}, text: true},
	"system-out": {text: true},
	"system-err": {text: true},
}

// surefireTime is junit-10.xsd's SUREFIRE_TIME, the type of the time
// attribute of testsuites and testsuite.
var surefireTime = regexp.MustCompile(`^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$`)

// ValidateJUnit returns every way a junit.xml breaks junit-10.xsd: an
// element the schema does not know or does not allow where it is, an
// unknown or missing attribute, text where none may be, a time that is not
// SUREFIRE_TIME. None means valid.
func ValidateJUnit(data []byte) []string {
	var problems []string
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	roots := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return append(problems, "not well-formed XML: "+err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			el, known := junitSchema[name]
			where := name
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				where = parent + ">" + name
				if !slices.Contains(junitSchema[parent].children, name) {
					problems = append(problems, fmt.Sprintf("<%s> may not hold <%s>", parent, name))
				}
			} else {
				roots++
				if name != "testsuites" && name != "testsuite" {
					problems = append(problems, fmt.Sprintf("<%s> is not a root the schema allows", name))
				}
			}
			if !known {
				problems = append(problems, fmt.Sprintf("<%s> is not in the schema", name))
			}
			var have []string
			for _, a := range t.Attr {
				have = append(have, a.Name.Local)
				if known && !slices.Contains(el.attrs, a.Name.Local) {
					problems = append(problems, fmt.Sprintf("%s: attribute %q is not in the schema", where, a.Name.Local))
				}
				if a.Name.Local == "time" && (name == "testsuite" || name == "testsuites") && !surefireTime.MatchString(a.Value) {
					problems = append(problems, fmt.Sprintf("%s: time %q is not SUREFIRE_TIME", where, a.Value))
				}
			}
			for _, r := range el.required {
				if !slices.Contains(have, r) {
					problems = append(problems, fmt.Sprintf("%s: lacks the required attribute %q", where, r))
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && !junitSchema[stack[len(stack)-1]].text && len(bytes.TrimSpace(t)) > 0 {
				problems = append(problems, fmt.Sprintf("<%s> may not hold text", stack[len(stack)-1]))
			}
		}
	}
	if roots != 1 {
		problems = append(problems, fmt.Sprintf("%d root elements", roots))
	}
	return problems
}
