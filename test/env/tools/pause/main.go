// Command pause is the infrastructure container of every Pod on the test node: it keeps the Pod's
// namespaces alive and exits on SIGTERM or SIGINT, like registry.k8s.io/pause (which is not pulled here).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
