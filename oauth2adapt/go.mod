module github.com/cryptofuse/cryptofuse-go/oauth2adapt

go 1.25.0

require (
	github.com/cryptofuse/cryptofuse-go v0.3.0
	golang.org/x/oauth2 v0.36.0
)

// Development: build and test against the SDK in this repository. A replace
// applies only when this module is the main module; a user's build ignores
// it and uses the version required above, so a release of oauth2adapt
// requires a released (tagged) version of the SDK.
replace github.com/cryptofuse/cryptofuse-go => ../
