package skeleton

import (
	"fmt"
	"slices"

	"pbftlab/lab"
)

func describe(ids []lab.ID) string {
	return fmt.Sprint(slices.Sorted(slices.Values(ids)))
}
