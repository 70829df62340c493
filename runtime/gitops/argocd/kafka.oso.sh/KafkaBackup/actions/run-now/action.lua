-- Asks the operator for a backup run now, by setting the kafka.oso.sh/rerun annotation.
-- The operator starts a run whenever the annotation differs from status.observedRerun (even
-- while spec.suspend is true), so each use must write a value it has not seen: the time in UTC
-- to the second, from Argo CD's sandboxed os.date, with a counter for a second use in the same
-- second. Returns the object; Argo CD patches the difference (the annotation only).
local key = "kafka.oso.sh/rerun"
if obj.metadata.annotations == nil then obj.metadata.annotations = {} end
local previous = obj.metadata.annotations[key]
local observed = nil
if obj.status ~= nil then observed = obj.status.observedRerun end
local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
local value = now
local n = 1
while value == previous or value == observed do
  n = n + 1
  value = now .. "-" .. n
end
obj.metadata.annotations[key] = value
return obj
