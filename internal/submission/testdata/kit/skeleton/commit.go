package skeleton

// TODO(commit): the kit's stub.
func acked() bool { return false }
