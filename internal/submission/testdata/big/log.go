package skeleton

const slots = 1 << 20

type ring struct {
	small [32]int
	large [slots]int
	grid  [1024][1024]byte
}

func fill() []byte {
	return []byte{1 << 30: 1}
}

func fine() [64]int { return [64]int{63: 1} }
