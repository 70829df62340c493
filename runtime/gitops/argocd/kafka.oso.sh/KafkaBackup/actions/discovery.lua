-- Argo CD actions of a KafkaBackup: "run-now" asks the operator for a run at once.
-- Disabled while a run is going (the operator starts a requested run only after it ends) and
-- while a request is waiting (kafka.oso.sh/rerun differs from status.observedRerun), so the
-- button never queues a run that a person expects to start now.
local actions = {}
local annotations = obj.metadata.annotations
local requested = nil
if annotations ~= nil then requested = annotations["kafka.oso.sh/rerun"] end
local status = obj.status
if status == nil then status = {} end
local waiting = requested ~= nil and requested ~= status.observedRerun
actions["run-now"] = {
  ["disabled"] = status.phase == "Running" or waiting,
  ["iconClass"] = "fa fa-fw fa-play",
  ["displayName"] = "Run backup now",
}
return actions
