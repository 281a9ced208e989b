package skeleton

func later(f func()) {
	go f()
}
