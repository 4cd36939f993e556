package web

import "io/fs"

// LookerSDKPath is where the build (scripts/build-ui.sh, web/looker-sdk) puts the unmodified
// browser bundle of @looker/embed-sdk from npm, for the demo host's Looker mode.
const LookerSDKPath = "dist/looker/embed-sdk.js"

// LookerSDK returns the bundled @looker/embed-sdk (a UMD script that defines window.LookerEmbedSDK)
// and true, or false when the build did not include it.
func LookerSDK() ([]byte, bool) {
	b, err := fs.ReadFile(dist, LookerSDKPath)
	return b, err == nil
}
