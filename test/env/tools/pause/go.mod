// The node's sandbox ("pause") image: a process that holds a Pod's namespaces until it is told to stop.
module kafka-backup.test/tools/pause

go 1.26.0
