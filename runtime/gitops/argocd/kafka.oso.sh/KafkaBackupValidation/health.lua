-- Argo CD health of a KafkaBackupValidation, read from the status the operator writes: the kstatus
-- conditions Ready, Reconciling and Stalled, status.observedGeneration, and status.phase
-- (Pending, Running, Ready, Completed, Failed, Suspended).
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
  return { status = "Progressing", message = "Waiting for the operator to reconcile the validation" }
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

-- Cannot run (a missing KafkaBackup or Secret, storage unreachable, a schedule that cannot be
-- evaluated): the operator retries with backoff or waits for a new spec, and says what to fix.
if isTrue(stalled) then
  return { status = "Degraded", message = because(stalled) }
end

-- spec.suspend: no scheduled run starts (Ready stays True: nothing is wrong).
if status.phase == "Suspended" then
  return { status = "Suspended", message = text(ready) }
end

if isTrue(reconciling) or status.phase == "Running" then
  return { status = "Progressing", message = text(reconciling) }
end

-- Checks failed, or the run exceeded activeDeadlineSeconds: the backup is not proven restorable.
if status.phase == "Failed" and ready ~= nil then
  return { status = "Degraded", message = because(ready) }
end

if isTrue(ready) then
  return { status = "Healthy", message = text(ready) }
end

if ready ~= nil and ready.status == "False" then
  return { status = "Degraded", message = because(ready) }
end

return { status = "Progressing", message = "Waiting for the operator to report readiness" }
