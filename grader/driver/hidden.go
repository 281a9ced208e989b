package driver

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"pbftlab/grader"
	"pbftlab/script"
)

// HiddenCases checks a list of TA-only cases (-hidden: comma-separated
// names or patterns) against the cases a grade takes, and returns the
// names of the cases it hides, in the cases' order. Every name or pattern
// must match at least one case: one that matches none (a typo, a case
// folder other than the one meant) would leave the case it was meant for
// visible to students without a word. The error names each such entry,
// with the nearest case name when one is close; dir is the case folder,
// for the message.
func HiddenCases(cases []*script.Case, dir, list string) ([]string, error) {
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = grader.Name(c)
	}
	var problems []string
	hidden := map[string]bool{}
	for p := range strings.SplitSeq(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			problems = append(problems, fmt.Sprintf("%q is not a name or a pattern (%v)", p, err))
			continue
		}
		matched := false
		for _, n := range names {
			if hiddenBy(p, n) {
				hidden[n], matched = true, true
			}
		}
		if !matched {
			problems = append(problems, fmt.Sprintf("%q matches no case in %s%s", p, dir, suggestion(p, names)))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("-hidden: %s", strings.Join(problems, "; "))
	}
	var out []string
	for _, n := range names {
		if hidden[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// checkHidden checks the grade's TA-only list against its case folder
// before anything else, so that a list naming no case stops the grade
// before any report shows a case it was meant to hide. A case folder
// that does not load is left for the grade to report.
func (o Options) checkHidden() error {
	if strings.TrimSpace(o.Report.hidden) == "" {
		return nil
	}
	cases, err := grader.LoadCases(o.Cases)
	if err != nil {
		return nil
	}
	_, err = HiddenCases(cases, o.Cases, o.Report.hidden)
	return err
}

// hiddenBy reports whether the name or pattern p hides the case name.
func hiddenBy(p, name string) bool {
	ok, _ := path.Match(p, name)
	return ok || p == name
}

// suggestion is " (did you mean X?)" for the case name, or the pattern,
// nearest to what p got wrong, or "" when nothing is close. A plain name
// is compared with every name; a pattern's text before its first
// wildcard with the same length of every name, the rest kept, so that
// "robsut*" suggests "robust*". A name's first word alone ("robust12"),
// which CASE= takes, suggests the case it stands for. With nothing close,
// it says how cases are named.
func suggestion(p string, names []string) string {
	lit, rest := p, ""
	if i := strings.IndexAny(p, `*?[\`); i >= 0 {
		lit, rest = p[:i], p[i:]
	}
	if rest == "" {
		var firstWord []string
		for _, n := range names {
			if strings.HasPrefix(n, p+"_") {
				firstWord = append(firstWord, n)
			}
		}
		switch len(firstWord) {
		case 0:
		case 1:
			return fmt.Sprintf(" (did you mean %s? a TA-only case is named in full, or by a pattern)", firstWord[0])
		default:
			return fmt.Sprintf(" (did you mean %s_*? a TA-only case is named in full, or by a pattern)", p)
		}
	}
	best, bestDist := "", closeEnough(lit)+1
	for _, n := range names {
		candidate, d := n, editDistance(lit, n)
		if rest != "" {
			if len(n) < len(lit) {
				continue
			}
			candidate, d = n[:len(lit)]+rest, editDistance(lit, n[:len(lit)])
			if !slices.ContainsFunc(names, func(m string) bool { return hiddenBy(candidate, m) }) {
				continue
			}
		}
		if d < bestDist {
			best, bestDist = candidate, d
		}
	}
	if best == "" {
		return " (a case is named as its file is, without " + grader.CaseExt + ")"
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// closeEnough is how many edits make a name a likely typo of s: one in
// four characters, at least one, and none for text too short to tell.
func closeEnough(s string) int {
	if len(s) < 3 {
		return -1
	}
	return max(1, len(s)/4)
}

// editDistance is how many single-character edits (insert, delete,
// replace, or swap two neighbours, the commonest typo) turn a into b, in
// bytes: case names are ASCII. It is the optimal string alignment
// distance.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
