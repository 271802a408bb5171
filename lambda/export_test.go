package lambda

// Unexported helpers the external tests exercise directly.
var (
	Sha256                = sha256Hex
	HookResultFailed      = hookResultFailed
	Weight                = weight
	CreateDeploymentInput = createDeploymentInput
)
