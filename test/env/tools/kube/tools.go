//go:build tools

// Package tools pins the binaries built for the test environment: the control plane
// (kube-apiserver, kubectl) and, for tests that run Pods, one node (kubelet) with the
// controllers that turn Deployments and Jobs into Pods and place them.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
