package mutate

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// Equivalents reads the reviewed list of equivalent mutants: mutants that
// change the code but not what any run of the replica can do, so that no
// spec could kill them. Each line is a mutant ID, white space, and the
// reason in one line; "#" starts a comment line. A missing file is an empty
// list.
func Equivalents(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseEquivalents(file, data)
}

// ParseEquivalents parses an equivalents list; name is what errors call it.
func ParseEquivalents(name string, data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if i := strings.IndexAny(id, "\t"); i >= 0 {
			id, reason = id[:i], id[i+1:]+" "+reason
		}
		reason = strings.TrimSpace(reason)
		switch {
		case reason == "":
			return nil, fmt.Errorf("%s:%d: %s has no reason; say why no run can tell it from the reference", name, n, id)
		case out[id] != "":
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, n, id)
		}
		out[id] = reason
	}
	return out, sc.Err()
}
