package skeleton

func later(f func()) {
	go f()
	func() {
		go func() {}()
	}()
}
