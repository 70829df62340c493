-- Argo CD health of a KafkaRestore, read from the status the operator writes: the kstatus
-- conditions Ready, Reconciling and Stalled, status.observedGeneration, and status.phase
-- (Pending, AwaitingApproval, Running, Completed, PartiallyCompleted, Failed, RolledBack).
-- Argo CD runs this in gopher-lua (Lua 5.1) without the string and math libraries: plain Lua only.

local function condition(status, name)
  if status.conditions == nil then return nil end
  for _, c in ipairs(status.conditions) do
    if c.type == name then return c end
  end
  return nil
end

local function isTrue(c) return c ~= nil and c.status == "True" end

-- A condition's message, else its reason; "" for a missing condition.
local function text(c)
  if c == nil then return "" end
  if c.message ~= nil and c.message ~= "" then return c.message end
  return c.reason or ""
end

local function because(c) return (c.reason or "Unknown") .. ": " .. text(c) end

local status = obj.status
if status == nil or status.conditions == nil then
  return { status = "Progressing", message = "Waiting for the operator to reconcile the restore" }
end

-- As Argo CD does for a Deployment: a status older than the spec describes the old spec.
local generation = obj.metadata.generation
local observed = status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  return {
    status = "Progressing",
    message = "Waiting for the operator to observe generation " .. generation ..
      " (status describes generation " .. (observed or "none") .. ")",
  }
end

local ready = condition(status, "Ready")
local reconciling = condition(status, "Reconciling")
local stalled = condition(status, "Stalled")

-- Cannot go on until something outside it changes (a missing reference, Secret, bucket or
-- broker); the operator retries with backoff and says what to fix.
if isTrue(stalled) then
  return { status = "Degraded", message = because(stalled) }
end

-- spec.approval.policy Manual: the plan is published and nothing runs until a person sets
-- spec.approval.approved. Suspended rather than Progressing: the restore is paused on a human, not
-- on the operator, and Argo CD shows that distinctly (the application's health becomes Suspended;
-- `argocd app wait --suspended` waits for it). Like Progressing, it holds later sync waves back.
if status.phase == "AwaitingApproval" then
  return { status = "Suspended", message = status.message or text(reconciling) }
end

if isTrue(reconciling) or status.phase == "Running" then
  return { status = "Progressing", message = status.message or text(reconciling) }
end

-- Final phases that are not a success: Failed, PartiallyCompleted (some groups failed),
-- RolledBack (a restore whose offset commit failed and was undone).
if status.phase == "Failed" or status.phase == "PartiallyCompleted" or status.phase == "RolledBack" then
  if ready ~= nil then return { status = "Degraded", message = because(ready) } end
  return { status = "Degraded", message = status.phase .. ": " .. (status.message or "") }
end

if isTrue(ready) then
  return { status = "Healthy", message = text(ready) }
end

if ready ~= nil and ready.status == "False" then
  return { status = "Degraded", message = because(ready) }
end

return { status = "Progressing", message = "Waiting for the operator to report readiness" }
