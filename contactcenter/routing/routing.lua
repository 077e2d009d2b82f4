-- The routing core (core.py) as one Redis script, so every decision is atomic across processes.
-- ARGV[1] is the operation, ARGV[2] the JSON arguments; the answer is JSON {offers=[...], ...} or {err=...}.
-- Keys are built here (one Redis, not a cluster): rt:a:<agent>, rt:ah:<agent> (held contact -> weight),
-- rt:c:<contact>, rt:cd:<contact> (agents who declined), rt:w:<queue>|<channel> (waiting, by priority+seq),
-- rt:wn (hash <queue>|<channel> -> how many wait there), rt:wt:<queue> (waiting, by arrival time),
-- rt:i:<queue>|<mask> (available agents by idle since, grouped by the set of channels they have room for),
-- rt:masks (masks in use), rt:t (timers: o|contact, w|agent, p|agent), rt:queues, rt:agents, rt:seq.
local P = 'rt:'
local EPS = 1e-9
local CHANNELS = {'voice', 'chat', 'callback', 'email'}
local BIT = {voice = 1, chat = 2, callback = 4, email = 8}
local op = ARGV[1]
local args = cjson.decode(ARGV[2])
-- Milliseconds: a time survives the trip through a Redis string (%.14g) unchanged.
local now = math.floor(tonumber(args.now or 0) * 1000 + 0.5) / 1000
local offer_s = tonumber(args.offer_s or 20)
-- Redis turns a Lua number into a string with printf("%.17g"), which is slow: the clock, written several
-- times per decision, is formatted once; fields are written only when they changed.
local NOW_S = string.format('%.3f', now)
local function str(v)
  if v == now then return NOW_S end
  return v
end
local AGENT_FIELDS = {'st', 'rs', 'un', 'pu', 'idle', 'load', 'mk', 'xi'}
local CONTACT_FIELDS = {'q', 'ch', 'pr', 'seq', 'st', 'ag', 'dl', 'at'}

local function save(key, t, fields)
  local was, argv = t.was or {}, {}
  for _, f in ipairs(fields) do
    if was[f] ~= t[f] then
      argv[#argv + 1] = f
      argv[#argv + 1] = str(t[f])
      was[f] = t[f]
    end
  end
  t.was = was
  if #argv > 0 then redis.call('HSET', key, unpack(argv)) end
end

local function loaded(t, fields)
  t.was = {}
  for _, f in ipairs(fields) do t.was[f] = t[f] end
end
local AG, CT = {}, {}
local offers = {}

local function agent(aid)
  aid = tostring(aid)
  if AG[aid] then return AG[aid] end
  local h = redis.call('HGETALL', P .. 'a:' .. aid)
  if #h == 0 then return nil end
  local a = {id = aid}
  for i = 1, #h, 2 do a[h[i]] = h[i + 1] end
  a.load, a.cap, a.idle = tonumber(a.load), tonumber(a.cap), tonumber(a.idle)
  a.un, a.pu, a.xi = tonumber(a.un), tonumber(a.pu), tonumber(a.xi or -1)
  a.w, a.qs = cjson.decode(a.w), cjson.decode(a.qs)
  a.mk = tonumber(a.mk or 0)
  loaded(a, AGENT_FIELDS)
  AG[aid] = a
  return a
end

local function save_agent(a) save(P .. 'a:' .. a.id, a, AGENT_FIELDS) end

local function contact(cid)
  if CT[cid] then return CT[cid] end
  local h = redis.call('HGETALL', P .. 'c:' .. cid)
  if #h == 0 then return nil end
  local c = {id = cid}
  for i = 1, #h, 2 do c[h[i]] = h[i + 1] end
  c.pr, c.seq, c.dl, c.at = tonumber(c.pr), tonumber(c.seq), tonumber(c.dl), tonumber(c.at)
  loaded(c, CONTACT_FIELDS)
  CT[cid] = c
  return c
end

local function save_contact(c) save(P .. 'c:' .. c.id, c, CONTACT_FIELDS) end

local function score(c) return (9 - c.pr) * 1e13 + c.seq end
local function fits(a, ch) return a.load + a.w[ch] <= a.cap + EPS end

-- The idle lists are kept exact: an available agent is in rt:i:<queue>|<mask> (scored by idle time) for each
-- of its queues, where the mask says which channels it has room for; otherwise in none. One entry per queue
-- (not per queue and channel) keeps an offer to ~6 ZADDs; choosing looks at the head of each mask that holds
-- the channel (a handful). a.mk is the mask of its entries (0: none), a.xi the idle time they carry.
local function mask(a)
  if a.st ~= 'available' then return 0 end
  local m = 0
  for _, ch in ipairs(CHANNELS) do
    if fits(a, ch) then m = m + BIT[ch] end
  end
  return m
end

local function reindex(a)
  local m = mask(a)
  if m == a.mk and (m == 0 or a.xi == a.idle) then return end
  if a.mk ~= 0 and a.mk ~= m then
    for _, q in ipairs(a.qs) do redis.call('ZREM', P .. 'i:' .. q .. '|' .. a.mk, a.id) end
  end
  if m ~= 0 then
    local idle = str(a.idle)
    for _, q in ipairs(a.qs) do redis.call('ZADD', P .. 'i:' .. q .. '|' .. m, idle, a.id) end
    if m ~= a.mk then redis.call('SADD', P .. 'masks', m) end
  end
  a.mk, a.xi = m, a.idle
end

-- The first agent of one idle list who has not declined the contact: id and idle score, or nil.
local function head(key, cid, declines)
  local off, n = 0, 1  -- the head almost always answers; widen only past agents who declined
  while true do
    local rows = redis.call('ZRANGE', key, off, off + n - 1, 'WITHSCORES')
    if #rows == 0 then return nil end
    for i = 1, #rows, 2 do
      if not declines or redis.call('SISMEMBER', P .. 'cd:' .. cid, rows[i]) == 0 then
        return rows[i], tonumber(rows[i + 1])
      end
    end
    off, n = off + n, 16
  end
end

local function choose_agent(c)
  local declines = c.st ~= 'new' and redis.call('EXISTS', P .. 'cd:' .. c.id) == 1
  local want, best, best_score = BIT[c.ch], nil, nil
  for _, m in ipairs(redis.call('SMEMBERS', P .. 'masks')) do
    if bit.band(tonumber(m), want) ~= 0 then
      local aid, s = head(P .. 'i:' .. c.q .. '|' .. m, c.id, declines)
      -- (idle, id) in the order one sorted set would give: score, then member as a string
      if aid and (best == nil or s < best_score or (s == best_score and aid < best)) then
        best, best_score = aid, s
      end
    end
  end
  if best then return agent(best) end
  return nil
end

-- rt:wn counts the contacts waiting per (queue, channel), so a freed agent reads one hash instead of
-- looking into every list it could serve (most are empty).
local function wait(c)
  redis.call('ZADD', P .. 'w:' .. c.q .. '|' .. c.ch, score(c), c.id)
  redis.call('ZADD', P .. 'wt:' .. c.q, str(c.at), c.id)
  redis.call('HINCRBY', P .. 'wn', c.q .. '|' .. c.ch, 1)
end

local function unwait(c)
  redis.call('ZREM', P .. 'w:' .. c.q .. '|' .. c.ch, c.id)
  redis.call('ZREM', P .. 'wt:' .. c.q, c.id)
  if redis.call('HINCRBY', P .. 'wn', c.q .. '|' .. c.ch, -1) <= 0 then redis.call('HDEL', P .. 'wn', c.q .. '|' .. c.ch) end
end

local function choose_contact(a)
  local fields = {}
  for _, q in ipairs(a.qs) do
    for _, ch in ipairs(CHANNELS) do
      if fits(a, ch) then table.insert(fields, q .. '|' .. ch) end
    end
  end
  if #fields == 0 then return nil end
  local counts = redis.call('HMGET', P .. 'wn', unpack(fields))
  local best, best_score = nil, nil
  for f = 1, #fields do
    if counts[f] then
      local key, off, n, found = P .. 'w:' .. fields[f], 0, 1, false
      while not found do
        local rows = redis.call('ZRANGE', key, off, off + n - 1, 'WITHSCORES')
        if #rows == 0 then break end
        for i = 1, #rows, 2 do
          if redis.call('SISMEMBER', P .. 'cd:' .. rows[i], a.id) == 0 then
            local s = tonumber(rows[i + 1])
            if best_score == nil or s < best_score then best, best_score = rows[i], s end
            found = true
            break
          end
        end
        off, n = off + n, 16
      end
    end
  end
  if best then return contact(best) end
  return nil
end

local function offer(c, a)
  if c.st == 'queued' then unwait(c) end
  c.st, c.ag, c.dl = 'offered', a.id, now + offer_s
  if a.aa == '1' then
    c.st = 'assigned'  -- an auto-accepting agent: no offer to answer, no timer
  else
    redis.call('ZADD', P .. 't', c.dl, 'o|' .. c.id)
  end
  local w = a.w[c.ch]
  redis.call('HSET', P .. 'ah:' .. a.id, c.id, w)
  a.load, a.idle = a.load + w, now
  reindex(a)
  save_agent(a)
  save_contact(c)
  table.insert(offers, {c.id, tonumber(a.id), c.q, c.ch, c.dl, c.st == 'assigned'})
end

local function place(c)
  local a = choose_agent(c)
  if a then return offer(c, a) end
  c.st, c.ag = 'queued', ''
  wait(c)
  save_contact(c)
end

local function fill(a)
  while a.st == 'available' do
    local c = choose_contact(a)
    if not c then return end
    offer(c, a)
  end
end

local function free(a, cid)
  local w = tonumber(redis.call('HGET', P .. 'ah:' .. a.id, cid) or 0)
  redis.call('HDEL', P .. 'ah:' .. a.id, cid)
  a.load = math.max(0, a.load - w)
  reindex(a)
  save_agent(a)
end

local function give_back(c, decline)
  local a = agent(c.ag)
  redis.call('ZREM', P .. 't', 'o|' .. c.id)
  if decline then redis.call('SADD', P .. 'cd:' .. c.id, a.id) end
  free(a, c.id)
  place(c)
end

local function set_state(aid, st, at, reason, till)
  local a = agent(aid)
  if not a then return 'agent_not_found' end
  redis.call('ZREM', P .. 't', 'w|' .. a.id, 'p|' .. a.id)
  local was = a.st
  a.st, a.rs, a.un = st, reason or '', 0
  if st == 'wrap_up' then
    a.un = till
    redis.call('ZADD', P .. 't', till, 'w|' .. a.id)
  end
  if st ~= 'offline' and a.pu > at then redis.call('ZADD', P .. 't', a.pu, 'p|' .. a.id) end
  if st == 'available' and was ~= 'available' then a.idle = at end
  save_agent(a)
  if st ~= 'available' then
    for _, cid in ipairs(redis.call('HKEYS', P .. 'ah:' .. a.id)) do
      local c = contact(cid)
      if c and c.st == 'offered' then give_back(c, false) end
    end
  end
  reindex(a)
  save_agent(a)
  fill(a)
end

local function own_offer(aid, cid)
  local c = contact(cid)
  if not c or c.st ~= 'offered' then return nil, 'offer_withdrawn' end
  if c.ag ~= tostring(aid) then return nil, 'offer_not_yours' end
  return c, nil
end

local R = {}

function R.agent()
  local aid = tostring(args.id)
  local a = agent(aid)
  if not a then
    a = {id = aid, st = 'offline', rs = '', un = 0, pu = 0, idle = now, load = 0, mk = 0, xi = -1}
    AG[aid] = a
  end
  if a.mk ~= 0 then  -- its queues may change: drop every entry, reindex adds the right ones
    for _, q in ipairs(a.qs) do redis.call('ZREM', P .. 'i:' .. q .. '|' .. a.mk, aid) end
  end
  a.mk = 0
  a.cap, a.w, a.qs, a.aa = tonumber(args.cap), args.w, args.qs, args.aa
  redis.call('HSET', P .. 'a:' .. aid, 'cap', a.cap, 'w', cjson.encode(a.w), 'qs', args.qs_json, 'sk', args.sk,
    'aa', a.aa)
  redis.call('SADD', P .. 'agents', aid)
  -- Contacts the agent holds in their owner's records that routing lost (a restart): counted first.
  for _, h in ipairs(args.held or {}) do
    if redis.call('EXISTS', P .. 'c:' .. h[1]) == 0 then
      local c = {id = h[1], q = h[2], ch = h[3], pr = 0, st = 'assigned', ag = aid, dl = 0, at = now}
      c.seq = redis.call('INCR', P .. 'seq')
      CT[c.id] = c
      local w = a.w[c.ch] or 1
      redis.call('HSET', P .. 'ah:' .. aid, c.id, w)
      a.load = a.load + w
      save_contact(c)
    end
  end
  reindex(a)
  save_agent(a)
  fill(a)
end

function R.state()
  if args.st == 'busy' then return 'bad_state' end
  return set_state(args.id, args.st, now, args.reason, tonumber(args['until'] or 0))
end

function R.beat()
  local a = agent(args.id)
  if not a then return 'agent_not_found' end
  redis.call('ZREM', P .. 't', 'p|' .. a.id)  -- even if past: a tick may not have fired it yet
  a.pu = now + tonumber(args.ttl)
  save_agent(a)
  if a.st == 'offline' then return set_state(a.id, 'available', now, '', 0) end
  redis.call('ZADD', P .. 't', a.pu, 'p|' .. a.id)
end

function R.enqueue()
  if redis.call('HEXISTS', P .. 'queues', args.q) == 0 then return 'queue_not_found' end
  if redis.call('EXISTS', P .. 'c:' .. args.id) == 1 then return 'contact_exists' end
  local c = {id = args.id, q = args.q, ch = args.ch, pr = tonumber(args.pr), st = 'new', ag = '', dl = 0, at = now}
  c.seq = redis.call('INCR', P .. 'seq')
  CT[c.id] = c
  place(c)
end

function R.accept()
  local c, err = own_offer(args.agent, args.id)
  if err then return err end
  redis.call('ZREM', P .. 't', 'o|' .. c.id)
  c.st = 'assigned'
  save_contact(c)
  table.insert(offers, {c.id, tonumber(c.ag), c.q, c.ch, c.dl, true})
end

function R.decline()
  local c, err = own_offer(args.agent, args.id)
  if err then return err end
  give_back(c, true)
  fill(agent(args.agent))
end

local function drop(c)
  redis.call('DEL', P .. 'c:' .. c.id, P .. 'cd:' .. c.id)
  CT[c.id] = nil
end

function R.finish()
  local c = contact(args.id)
  if not c then return end
  if c.st == 'queued' then
    unwait(c)
    drop(c)
    return
  end
  redis.call('ZREM', P .. 't', 'o|' .. c.id)
  local a = agent(c.ag)
  drop(c)
  free(a, c.id)
  fill(a)
  return nil, tonumber(a.id)
end

function R.transfer()
  local c = contact(args.id)
  if not c then return 'contact_not_found' end
  if c.st ~= 'assigned' then return 'not_assigned' end
  if args.q and redis.call('HEXISTS', P .. 'queues', args.q) == 0 then return 'queue_not_found' end
  local target = nil
  if args.agent then
    target = agent(args.agent)
    if not target then return 'agent_not_found' end
    if target.st ~= 'available' or not fits(target, c.ch) then return 'agent_unavailable' end
  end
  local old = agent(c.ag)
  free(old, c.id)
  if args.q then c.q = args.q end
  redis.call('DEL', P .. 'cd:' .. c.id)
  if target then offer(c, target) else place(c) end
  fill(old)
end

function R.tick()
  for _ = 1, 1000 do
    local due = redis.call('ZRANGEBYSCORE', P .. 't', '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
    if #due == 0 then return end
    redis.call('ZREM', P .. 't', due[1])
    local kind, ident, at = string.sub(due[1], 1, 1), string.sub(due[1], 3), tonumber(due[2])
    if kind == 'o' then
      local c = contact(ident)
      if c and c.st == 'offered' then set_state(c.ag, 'away', at, 'missed offer', 0) end
    elseif kind == 'w' then
      set_state(ident, 'available', at, '', 0)
    else
      set_state(ident, 'offline', at, '', 0)
    end
  end
end

-- Once per process start (version key rt:v): state written by the per-(queue, channel) version of this
-- script gets its waiting counts and idle lists rebuilt; idempotent.
function R.upgrade()
  if redis.call('GET', P .. 'v') == '2' then return end
  redis.call('DEL', P .. 'wn')
  for _, q in ipairs(redis.call('HKEYS', P .. 'queues')) do
    for _, ch in ipairs(CHANNELS) do
      local n = redis.call('ZCARD', P .. 'w:' .. q .. '|' .. ch)
      if n > 0 then redis.call('HSET', P .. 'wn', q .. '|' .. ch, n) end
    end
  end
  for _, aid in ipairs(redis.call('SMEMBERS', P .. 'agents')) do
    local a = agent(aid)
    if a and a.st then
      if a.ix then
        for _, key in ipairs(cjson.decode(a.ix)) do redis.call('ZREM', P .. 'i:' .. key, aid) end
        redis.call('HDEL', P .. 'a:' .. aid, 'ix')
        a.mk, a.xi = 0, -1
      end
      reindex(a)
      save_agent(a)
    end
  end
  redis.call('SET', P .. 'v', '2')
end

local fn = R[op]
if not fn then return cjson.encode({err = 'bad_op'}) end
local err, holder = fn()
if err then return cjson.encode({err = err}) end
return cjson.encode({offers = offers, agent = holder or false})
