package submission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"pbftlab/internal/kit"
)

// Tree is the folder of the kit that a submission replaces: the student's
// replica, graded by its grade test.
const Tree = "skeleton"

// Files are the files of the tree a student may change, as the kit ships
// it: one per PBFT phase and the replica's state, log and timer. The list
// is fixed rather than read from the folder, so that a file a student adds
// to the kit's own tree is no more taken there than in a TA's clean kit.
var Files = []string{
	"checkpoint.go", "commit.go", "log.go", "newview.go", "prepare.go",
	"preprepare.go", "recovery.go", "replica.go", "timer.go", "viewchange.go",
}

// Editable lists the files of Files that the tree in treeDir holds. The
// grade test, the commands under cmd/ and anything else stay the kit's.
func Editable(treeDir string) ([]string, error) {
	var names []string
	for _, n := range Files {
		fi, err := os.Lstat(filepath.Join(treeDir, n))
		if err == nil && fi.Mode().IsRegular() {
			names = append(names, n)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s holds none of the files a student edits (%s)", treeDir, strings.Join(Files, ", "))
	}
	return names, nil
}

// Added lists the Go files of the tree in treeDir, tests aside, that are
// not among Files: what a student added to their own copy of the kit,
// which a build of a hand-in leaves out.
func Added(treeDir string) ([]string, error) {
	entries, err := os.ReadDir(treeDir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") && !slices.Contains(Files, n) {
			names = append(names, n)
		}
	}
	return names, nil
}

// Source is the folder of a submission that holds the student's files:
// dir itself, or dir/skeleton when the student handed in the whole tree.
// Neither may be a link: a folder holding only "skeleton -> ../other"
// would otherwise be graded as the other student's work.
func Source(dir string) (string, error) {
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return "", &LinkError{Path: dir}
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a folder", dir)
	}
	sub := filepath.Join(dir, Tree)
	fi, err = os.Lstat(sub)
	switch {
	case err != nil:
		return dir, nil
	case fi.Mode()&os.ModeSymlink != 0:
		return "", &LinkError{Path: sub}
	case fi.IsDir():
		if gos, _ := filepath.Glob(filepath.Join(sub, "*.go")); len(gos) > 0 {
			return sub, nil
		}
	}
	return dir, nil
}

// LinkError is a submission folder, or its skeleton/, that is a symbolic
// link. Nothing is ever read through a link: what a link points to is not
// the student's hand-in.
type LinkError struct{ Path string }

func (e *LinkError) Error() string {
	return e.Path + " is a link: a submission is read from its own folder, never through a link"
}

// Found is what a submission folder offers.
type Found struct {
	Dir     string            // where the files were read
	Files   map[string][]byte // the editable files it holds, by name
	Missing []string          // editable files it lacks; the kit's stay
	Ignored []string          // Go files it holds that a student may not edit
}

// Read takes the editable files from a submission folder and checks each
// one. Violations come back sorted by file and line; the files are only
// worth grading when there are none.
func Read(dir string, editable []string, module string) (*Found, []Violation, error) {
	src, err := Source(dir)
	if le, ok := errors.AsType[*LinkError](err); ok {
		return nil, []Violation{{File: le.Path, Rule: "a link: a submission is read from its own folder, never through a link"}}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	found := &Found{Dir: src, Files: map[string][]byte{}}
	var vs []Violation
	byPath := map[string][]byte{}
	for _, name := range editable {
		p := filepath.Join(src, name)
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			found.Missing = append(found.Missing, name)
			continue
		}
		data, v := readChecked(p)
		if v != nil {
			vs = append(vs, *v)
			continue
		}
		vs = append(vs, Rules(p, data, Tree, module)...)
		found.Files[name] = data
		byPath[p] = data
	}
	vs = append(vs, Sizes(byPath)...)
	if len(found.Files) == 0 && len(vs) == 0 {
		return nil, nil, noFilesError(src, editable)
	}
	gos, _ := filepath.Glob(filepath.Join(src, "*.go"))
	for _, p := range gos {
		if !slices.Contains(editable, filepath.Base(p)) {
			found.Ignored = append(found.Ignored, filepath.Base(p))
		}
	}
	slices.SortFunc(vs, func(a, b Violation) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return found, vs, nil
}

// Workspace is a submission's files set up for grading in the kit: a Go
// build overlay (go build -overlay) that compiles each submitted file in
// place of the kit's own. Nothing the submission holds besides its
// editable files can reach the grader, the cases or the reports, and the
// kit itself is never written to. An overlay rather than a copy of the
// kit: the build cache keys compiled packages by their folder, so in a
// copy every package of the kit compiles again, seconds per submission,
// where the overlay recompiles the student's package alone.
type Workspace struct {
	Root    string // the kit's module root: the build runs there
	Overlay string // the overlay file, for go build -overlay
	Found   *Found
	dir     string // holds the overlay and the submitted files
}

// Close removes the submitted files' copies and the overlay.
func (w *Workspace) Close() error { return os.RemoveAll(w.dir) }

// Prepare checks the submission in dir against the kit at kitRoot and,
// when it breaks no rule, writes its files and an overlay that puts them
// in the kit's tree. Violations mean nothing was written.
func Prepare(kitRoot, dir string) (*Workspace, []Violation, error) {
	kitRoot, err := filepath.Abs(kitRoot)
	if err != nil {
		return nil, nil, err
	}
	module, err := ModulePath(kitRoot)
	if err != nil {
		return nil, nil, err
	}
	editable, err := Editable(filepath.Join(kitRoot, Tree))
	if err != nil {
		return nil, nil, err
	}
	found, vs, err := Read(dir, editable, module)
	if err != nil || len(vs) > 0 {
		return nil, vs, err
	}
	tmp, err := os.MkdirTemp("", "pbftlab-submission-")
	if err != nil {
		return nil, nil, err
	}
	w := &Workspace{Root: kitRoot, Overlay: filepath.Join(tmp, "overlay.json"), Found: found, dir: tmp}
	replace := map[string]string{}
	for name, data := range found.Files {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			w.Close()
			return nil, nil, err
		}
		replace[filepath.Join(kitRoot, Tree, name)] = p
	}
	// A file added to the kit's own tree (a student grading their hand-in
	// in their copy of the kit) is left out, as a TA's clean kit has no
	// such file: an empty backing path means the file does not exist.
	added, err := Added(filepath.Join(kitRoot, Tree))
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	for _, name := range added {
		replace[filepath.Join(kitRoot, Tree, name)] = ""
	}
	overlay, err := json.Marshal(map[string]any{"Replace": replace})
	if err == nil {
		err = os.WriteFile(w.Overlay, overlay, 0o644)
	}
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, nil, nil
}

// Unmap turns the paths of the submitted files' copies in what the build
// printed (a compiler error, say) back into the paths they were read
// from, so that a message leads to the student's file, not to a
// temporary copy that is gone by the time anyone reads it.
func (w *Workspace) Unmap(out string) string {
	return strings.ReplaceAll(out, w.dir+string(filepath.Separator), w.Found.Dir+string(filepath.Separator))
}

// Files returns the tree's editable files as the build sees them: each
// path in the kit's tree, read through the overlay.
func (w *Workspace) Files() (map[string][]byte, error) {
	data, err := os.ReadFile(w.Overlay)
	if err != nil {
		return nil, err
	}
	var o struct{ Replace map[string]string }
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for kit, sub := range o.Replace {
		if sub == "" {
			continue // a file left out of the build
		}
		if out[kit], err = os.ReadFile(sub); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// KitFiles lists the kit's files as slash paths relative to root: those git
// tracks or would track when root is a git work tree, otherwise every file
// below root but version control, build output and reports.
func KitFiles(root string) ([]string, error) { return kitFiles(root, true) }

// TrackedFiles is KitFiles without the files git does not track yet, for a
// release that must not pick up work in progress.
func TrackedFiles(root string) ([]string, error) { return kitFiles(root, false) }

func kitFiles(root string, untracked bool) ([]string, error) {
	args := []string{"ls-files", "-z", "--cached"}
	if untracked {
		args = append(args, "--others", "--exclude-standard")
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if cmd.Run() == nil && isTopLevel(root) {
		var files []string
		for _, f := range strings.Split(out.String(), "\x00") {
			if f == "" {
				continue
			}
			if fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(f))); err == nil && fi.Mode().IsRegular() {
				files = append(files, f)
			}
		}
		slices.Sort(files)
		return slices.Compact(files), nil
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".git") || kit.Under(rel, kit.Leftovers()...)) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && !strings.HasSuffix(rel, ".test") && !strings.HasSuffix(rel, ".out") {
			files = append(files, rel)
		}
		return nil
	})
	return files, err
}

// isTopLevel reports whether root is the top of its git work tree, so that
// git's listing is the kit's and not some enclosing repository's.
func isTopLevel(root string) bool {
	cmd := exec.Command("git", "rev-parse", "--show-toplevel")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return false
	}
	top, err1 := filepath.EvalSymlinks(strings.TrimSpace(string(out)))
	abs, err2 := filepath.EvalSymlinks(root)
	return err1 == nil && err2 == nil && top == abs
}

// CopyKit copies the kit's files from root to dest, leaving out those skip
// names.
func CopyKit(root, dest string, skip func(rel string) bool) error {
	files, err := KitFiles(root)
	if err != nil {
		return err
	}
	for _, rel := range files {
		if skip != nil && skip(rel) {
			continue
		}
		if err := copyFile(filepath.Join(root, filepath.FromSlash(rel)), filepath.Join(dest, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ModulePath reads the module line of root/go.mod.
func ModulePath(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s/go.mod has no module line", root)
}
