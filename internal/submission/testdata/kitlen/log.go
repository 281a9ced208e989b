package skeleton

import "pbftlab/lab"

type table struct {
	window [lab.DefaultWindow]bool
	big    [lab.DefaultWindow << 20]byte
	kinds  [lab.PhaseAborted]int
}

func fill() []byte {
	return []byte{lab.DefaultWindow << 16: 1}
}

func kinds() map[lab.Phase]string {
	return map[lab.Phase]string{lab.PhasePrepared: "prepared", lab.PhasePrepared + 1: "next"}
}
