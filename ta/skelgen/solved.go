package skelgen

import (
	"fmt"
	"path/filepath"

	"pbftlab/internal/submission"
	"pbftlab/script"
)

// Solved returns the files a student hands in who has done every
// phase as the reference does: the skeleton's editable files with every
// region filled from the reference, by name. The reference's own files
// would not do: their lines marked REFERENCE ONLY call into its fast mode,
// which a student's tree does not have, so they do not build there.
func Solved(root string) (map[string][]byte, error) {
	files, err := Generate(Options{Root: root, From: "solution", To: submission.Tree, Fill: script.Phases()})
	if err != nil {
		return nil, err
	}
	editable, err := submission.Editable(filepath.Join(root, submission.Tree))
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, name := range editable {
		src, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("the skeleton generated from the reference has no %s", name)
		}
		out[name] = src
	}
	return out, nil
}
