//go:build tools

// Package tools pins the binaries built for the test environment.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
