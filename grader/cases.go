package grader

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"pbftlab/internal/kit"
	"pbftlab/script"
)

// CaseExt is the extension of case files.
const CaseExt = ".case"

// RobustnessDir is the folder, inside a case folder, of the robustness
// cases: scenarios beyond the lab's own, scored on a line of their own.
const RobustnessDir = "robustness"

// LoadCases parses every case file in dir and in dir/robustness, the lab's
// cases first, each group sorted by file name. A malformed file is an
// error naming file and line; so is a folder with no cases, so are two
// cases that would be graded as one (see checkUnique), and so is a file
// that looks like a case but would not be read (see strayCases).
func LoadCases(dir string) ([]*script.Case, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	errs := strayCases(dir)
	var paths []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), CaseExt) {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	robust, err := os.ReadDir(filepath.Join(dir, RobustnessDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	var robustPaths []string
	for _, e := range robust {
		if !e.IsDir() && strings.HasSuffix(e.Name(), CaseExt) {
			robustPaths = append(robustPaths, filepath.Join(dir, RobustnessDir, e.Name()))
		}
	}
	slices.SortFunc(robustPaths, func(a, b string) int { return naturalCompare(filepath.Base(a), filepath.Base(b)) })
	var cases []*script.Case
	for _, path := range append(paths, robustPaths...) {
		text, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := script.Parse(path, string(text))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cases = append(cases, c)
	}
	errs = append(errs, checkUnique(cases)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("no %s files in %s", CaseExt, dir)
	}
	return cases, nil
}

// looksLikeCase matches a file name, in lower case, meant as a case's:
// ".case" at its end or before another extension ("x.case.txt").
var looksLikeCase = regexp.MustCompile(`\.case(\.|$)`)

// strayCases finds the files under dir that look like cases but would not
// be read: a name that ends in ".case" in another letter case ("x.CASE")
// or goes on after it ("x.case.txt"), and a case in a folder other than
// dir and dir/robustness. Each is an error rather than a warning: a hidden
// case misnamed by a TA would otherwise be skipped in silence, the grade
// would list one spec fewer, and the students would pass what was never
// tested. Other files (a README) and hidden ones (an editor's) are left
// alone, as nobody means them for cases.
func strayCases(dir string) []error {
	var errs []error
	read := fmt.Sprintf("only the *%s files of %s and of %s are read", CaseExt, dir, filepath.Join(dir, RobustnessDir))
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case path != dir && strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir() || !looksLikeCase.MatchString(strings.ToLower(d.Name())):
			return nil
		}
		folder, _ := filepath.Rel(dir, filepath.Dir(path))
		inRead := folder == "." || folder == RobustnessDir
		switch {
		case !inRead:
			errs = append(errs, fmt.Errorf("%s: a case in a folder the grader does not read (%s): move it", path, read))
		case !strings.HasSuffix(d.Name(), CaseExt):
			i := strings.LastIndex(strings.ToLower(d.Name()), CaseExt)
			errs = append(errs, fmt.Errorf("%s: not read as a case (%s): rename it %s", path, read, d.Name()[:i]+CaseExt))
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("reading cases: %w", err))
	}
	return errs
}

// checkUnique refuses two cases with the same name or the same title. The
// name (the file's, see Name) labels the spec, keys its row in the reports
// and is what CASE= selects, so two files of one name, one in the folder
// and one in robustness/, would share a row and run together; the title is
// the spec's text and the heading a student reads. Both are compared
// ignoring case, as Ginkgo's label filters compare labels.
func checkUnique(cases []*script.Case) []error {
	var errs []error
	names, titles := map[string]*script.Case{}, map[string]*script.Case{}
	for _, c := range cases {
		name := strings.ToLower(Name(c))
		if first, ok := names[name]; ok {
			errs = append(errs, fmt.Errorf("%s and %s: two cases named %q (a case's name is its file name, which CASE= selects and the reports key its score by): rename one", first.File, c.File, Name(c)))
		} else {
			names[name] = c
		}
		title := strings.ToLower(strings.TrimSpace(c.Title))
		if first, ok := titles[title]; ok {
			errs = append(errs, fmt.Errorf("%s and %s: two cases titled %q (the title is the spec's name in the reports): give each its own", first.File, c.File, c.Title))
		} else {
			titles[title] = c
		}
	}
	return errs
}

// Robust reports whether c is a robustness case.
func Robust(c *script.Case) bool {
	return filepath.Base(filepath.Dir(c.File)) == RobustnessDir
}

// Kind is what a case is graded as: "robustness" for the robustness
// specs, "case" for the lab's cases.
func Kind(c *script.Case) string {
	if Robust(c) {
		return "robustness"
	}
	return "case"
}

// Name is a case's short name: its file name without the extension. Specs
// carry it as the label "case:NAME", which selects one case to rerun.
func Name(c *script.Case) string {
	return strings.TrimSuffix(filepath.Base(c.File), CaseExt)
}

// CasesDir finds the case folder the driver named, otherwise the cases/
// folder at the root of the module that contains the working directory.
func CasesDir() (string, error) {
	st, err := ReadSettings()
	if err != nil {
		return "", err
	}
	return casesDir(st)
}

func casesDir(st Settings) (string, error) {
	if st.Cases != "" {
		return filepath.Abs(st.Cases)
	}
	root, err := kit.Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "cases"), nil
}
