package driver

import (
	"fmt"
	"slices"
	"strings"

	"pbftlab/grader"
	"pbftlab/script"
)

// caseNamed returns the name of the case that name stands for: the case of
// that name, or the one case whose name begins with name and an
// underscore, so that CASE=robust12 or CASE=case7 is enough to type.
func caseNamed(cases []*script.Case, name string) (string, error) {
	var matches []string
	for _, c := range cases {
		n := grader.Name(c)
		if n == name {
			return n, nil
		}
		if strings.HasPrefix(n, name+"_") {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", fmt.Errorf("no case named %q (%s)", name, caseNames(cases))
	default:
		return "", fmt.Errorf("%q names %d cases (%s): give the whole name", name, len(matches), strings.Join(matches, ", "))
	}
}

// CaseList resolves a comma-separated list of case names, each as
// caseNamed takes it, into the cases' whole names, comma-separated.
func CaseList(cases []*script.Case, list string) (string, error) {
	var names []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		n, err := caseNamed(cases, name)
		if err != nil {
			return "", err
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("%q names no case", list)
	}
	return strings.Join(names, ","), nil
}

// caseNames lists the cases a name may name: the lab's by name, the
// robustness specs by how many there are: their files name them.
func caseNames(cases []*script.Case) string {
	var lab []string
	robust := 0
	for _, c := range cases {
		if grader.Robust(c) {
			robust++
		} else {
			lab = append(lab, grader.Name(c))
		}
	}
	s := "the cases: " + strings.Join(lab, ", ")
	if robust > 0 {
		s += fmt.Sprintf(", and %d robustness specs, each named as its file is", robust)
	}
	return s
}
