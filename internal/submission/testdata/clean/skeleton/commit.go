package skeleton

func acked() bool { return true }
