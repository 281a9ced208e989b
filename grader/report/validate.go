package report

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Gradescope's autograder specification (gradescope-autograders.readthedocs.io,
// "Autograder Specifications", section "Output format") lists these keys,
// their types and their allowed values.
var (
	gsTopKeys = map[string]string{
		"score": "number", "execution_time": "number", "output": "string",
		"output_format": "format", "test_output_format": "format", "test_name_format": "format",
		"visibility": "visibility", "stdout_visibility": "visibility",
		"extra_data": "object", "tests": "array", "leaderboard": "array",
	}
	gsTestKeys = map[string]string{
		"score": "number", "max_score": "number", "status": "status", "name": "string",
		"name_format": "format", "number": "string", "output": "string", "output_format": "format",
		"tags": "strings", "visibility": "visibility", "extra_data": "object",
	}
	gsFormats      = []string{"text", "html", "simple_format", "md", "ansi"}
	gsVisibilities = []string{"hidden", "after_due_date", "after_published", "visible"}
	gsStatuses     = []string{"passed", "failed"}
	// What the kit promises on top: every test carries all of these.
	kitTestKeys = []string{"name", "number", "score", "max_score", "status", "tags", "output", "output_format", "visibility"}
)

// ValidateGradescope returns every way a results.json breaks Gradescope's
// specification, or the kit's promise on top of it (every test carries
// name, number, score, max_score, status, tags, output, output_format and
// visibility; the top-level score is the tests' sum; the hidden rule, see
// hiddenRule). None means valid.
func ValidateGradescope(data []byte) []string {
	var problems []string
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	problems = append(problems, checkKeys("results", top, gsTopKeys)...)
	tests, _ := top["tests"].([]any)
	if _, ok := top["score"]; !ok {
		problems = append(problems, "no top-level score")
	}
	if _, ok := top["execution_time"]; !ok {
		problems = append(problems, "no execution_time")
	}
	if _, ok := top["tests"].([]any); !ok {
		problems = append(problems, "tests is not an array")
	}
	sum := 0.0
	for i, raw := range tests {
		test, ok := raw.(map[string]any)
		if !ok {
			problems = append(problems, fmt.Sprintf("tests[%d] is not an object", i))
			continue
		}
		where := fmt.Sprintf("tests[%d]", i)
		problems = append(problems, checkKeys(where, test, gsTestKeys)...)
		for _, k := range kitTestKeys {
			if _, ok := test[k]; !ok {
				problems = append(problems, where+" lacks "+k)
			}
		}
		score, _ := test["score"].(float64)
		max, _ := test["max_score"].(float64)
		if score < 0 || score > max {
			problems = append(problems, fmt.Sprintf("%s: score %v outside [0, %v]", where, score, max))
		}
		if (test["status"] == "passed") != (score == max && max > 0) {
			problems = append(problems, fmt.Sprintf("%s: status %v with %v/%v", where, test["status"], score, max))
		}
		sum += score
	}
	if s, ok := top["score"].(float64); ok && s != sum {
		problems = append(problems, fmt.Sprintf("top-level score %v is not the tests' sum %v", s, sum))
	}
	return append(problems, hiddenRule(top, tests)...)
}

// fraction is a total as text: "68/100", "22 / 50".
var fraction = regexp.MustCompile(`\d+\s*/\s*\d+`)

// hiddenRule is the kit's promise for TA-only tests: while any test is not
// visible, nothing shown at once gives a total away. The top-level output
// holds no "N/M" and no "Score", and the autograder's own output, which
// lists every case, is hidden.
func hiddenRule(top map[string]any, tests []any) []string {
	hidden := false
	for _, raw := range tests {
		if test, ok := raw.(map[string]any); ok {
			if v, ok := test["visibility"].(string); ok && v != VisibilityVisible {
				hidden = true
			}
		}
	}
	if !hidden {
		return nil
	}
	var problems []string
	out, _ := top["output"].(string)
	if fraction.MatchString(out) || strings.Contains(out, "Score") {
		problems = append(problems, "hidden tests exist, yet the top-level output gives a total: "+fraction.FindString(out))
	}
	if top["stdout_visibility"] != VisibilityHidden {
		problems = append(problems, "hidden tests exist, yet the autograder's output (which lists them) is not hidden")
	}
	return problems
}

func checkKeys(where string, obj map[string]any, allowed map[string]string) []string {
	var problems []string
	for k, v := range obj {
		kind, ok := allowed[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: key %q is not in the specification", where, k))
			continue
		}
		bad := false
		switch kind {
		case "number":
			_, isNum := v.(float64)
			bad = !isNum
		case "string":
			_, isStr := v.(string)
			bad = !isStr
		case "object":
			_, isObj := v.(map[string]any)
			bad = !isObj
		case "array":
			_, isArr := v.([]any)
			bad = !isArr
		case "strings":
			arr, isArr := v.([]any)
			bad = !isArr
			for _, e := range arr {
				if _, isStr := e.(string); !isStr {
					bad = true
				}
			}
		case "format":
			s, _ := v.(string)
			bad = !slices.Contains(gsFormats, s)
		case "visibility":
			s, _ := v.(string)
			bad = !slices.Contains(gsVisibilities, s)
		case "status":
			s, _ := v.(string)
			bad = !slices.Contains(gsStatuses, s)
		}
		if bad {
			problems = append(problems, fmt.Sprintf("%s: %s = %v is not a valid %s", where, k, v, kind))
		}
	}
	return problems
}
