-- Argo CD health of a KafkaBackup, read from the status the operator writes: the kstatus
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
  return { status = "Progressing", message = "Waiting for the operator to reconcile the backup" }
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

-- Stalled wins over a retry in progress: a failing backup stays Degraded across its retries
-- (the operator keeps Stalled=True until a run succeeds) instead of flapping with each attempt.
if isTrue(stalled) then
  local message = because(stalled)
  if isTrue(reconciling) then message = message .. " (a retry is running)" end
  return { status = "Degraded", message = message }
end

-- spec.suspend: no scheduled run starts (Ready stays True: nothing is wrong).
if status.phase == "Suspended" then
  return { status = "Suspended", message = text(ready) }
end

if isTrue(reconciling) or status.phase == "Running" then
  return { status = "Progressing", message = text(reconciling) }
end

-- A run that failed for good (not retried until the spec or the schedule brings a new run).
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
