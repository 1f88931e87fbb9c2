namespace Lumiku.Generation.Redis;

/// <summary>
/// The Lua scripts behind every state change that matters. Each checks the record's state first,
/// so a redelivered job or a repeated call finds the work done and changes nothing
/// (at-least-once delivery, exactly-once effects).
/// </summary>
internal static class LuaScripts
{
    // Shared helpers: append to the user's ledger and tell SSE listeners about a status change.
    private const string Prelude = """
        local function ledger(key, kind, gen, amount, balance, now, extra)
          local args = {key, '*', 'type', kind, 'generationId', gen, 'amount', tostring(amount), 'balance', tostring(balance), 'at', now}
          if extra then for i = 1, #extra do args[#args + 1] = extra[i] end end
          redis.call('XADD', unpack(args))
        end
        local function event(gen, status)
          redis.call('PUBLISH', 'lumiku:events:' .. gen, status)
        end
        local function terminal(status)
          return status == 'succeeded' or status == 'failed' or status == 'canceled'
        end
        """;

    /// <summary>
    /// Reserve credits, write the record and queue the job, atomically.
    /// A worker about to sleep has set the idle flag: clear it and nudge (busy workers get no message).
    /// KEYS: gen, balance, ledger, stream, userGens, idempotency, workersIdle.
    /// ARGV: id, userId, price, starterGrant, now, idemFingerprint, traceparent, tracestate, idemTtl, field/value pairs...
    /// </summary>
    public const string Submit = Prelude + """

        local id, price, starter, now, fp = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
        if fp ~= '' then
          local existing = redis.call('GET', KEYS[6])
          if existing then
            local sep = string.find(existing, '|', 1, true)
            local gid = string.sub(existing, sep + 1)
            if string.sub(existing, 1, sep - 1) == fp then return {'existing', gid} end
            return {'conflict', gid}
          end
        end
        local bal = redis.call('GET', KEYS[2])
        if not bal then
          bal = starter
          redis.call('SET', KEYS[2], bal)
          if bal > 0 then ledger(KEYS[3], 'grant', '', bal, bal, now, {'reason', 'starter'}) end
        else
          bal = tonumber(bal)
        end
        if bal < price then return {'insufficient', tostring(bal)} end
        bal = redis.call('DECRBY', KEYS[2], price)
        ledger(KEYS[3], 'reserve', id, -price, bal, now)
        local fields = {KEYS[1], 'status', 'queued', 'reserved', tostring(price), 'charged', '0', 'refunded', '0', 'attempts', '0', 'createdAt', now}
        for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
        redis.call('HSET', unpack(fields))
        redis.call('ZADD', KEYS[5], now, id)
        if fp ~= '' then redis.call('SET', KEYS[6], fp .. '|' .. id, 'EX', ARGV[9]) end
        local entry = redis.call('XADD', KEYS[4], '*', 'id', id, 'user', ARGV[2], 'traceparent', ARGV[7], 'tracestate', ARGV[8])
        redis.call('HSET', KEYS[1], 'entryId', entry)
        if redis.call('DEL', KEYS[7]) == 1 then redis.call('PUBLISH', 'lumiku:generations:nudge', '1') end
        return {'accepted', id, tostring(bal)}
        """;

    /// <summary>
    /// A worker takes a delivered entry: skip it when the generation is already terminal (or gone),
    /// dead-letter it past the delivery limit (refunding), else mark it processing and return the record.
    /// KEYS: gen, balance, ledger, stream, deadLetter. ARGV: entryId, group, now, maxAttempts, consumer.
    /// </summary>
    public const string Start = Prelude + """

        local entry, group, now = ARGV[1], ARGV[2], ARGV[3]
        local status = redis.call('HGET', KEYS[1], 'status')
        if not status then
          redis.call('XADD', KEYS[5], '*', 'entryId', entry, 'reason', 'missing_record')
          redis.call('XACK', KEYS[4], group, entry)
          return {'missing'}
        end
        if terminal(status) then
          redis.call('XACK', KEYS[4], group, entry)
          return {'skip', status}
        end
        local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
        if attempts > tonumber(ARGV[4]) then
          local gen = redis.call('HGET', KEYS[1], 'id')
          local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
          local bal = redis.call('INCRBY', KEYS[2], reserved)
          ledger(KEYS[3], 'refund', gen, reserved, bal, now, {'reason', 'dead_lettered'})
          redis.call('HSET', KEYS[1], 'status', 'failed', 'refunded', tostring(reserved), 'errorCode', 'dead_lettered',
            'errorMessage', 'The job failed ' .. (attempts - 1) .. ' deliveries and was moved to the dead-letter stream.', 'completedAt', now)
          redis.call('XADD', KEYS[5], '*', 'entryId', entry, 'id', gen, 'reason', 'delivery_limit', 'attempts', tostring(attempts - 1))
          redis.call('XACK', KEYS[4], group, entry)
          event(gen, 'failed')
          return {'dead'}
        end
        redis.call('HSET', KEYS[1], 'status', 'processing', 'startedAt', now, 'consumer', ARGV[5])
        if status ~= 'processing' then event(redis.call('HGET', KEYS[1], 'id'), 'processing') end
        return {'process', redis.call('HGETALL', KEYS[1])}
        """;

    /// <summary>
    /// The image is stored: mark succeeded, settle at the price of the model that produced it
    /// (returning the difference), ack. KEYS: gen, balance, ledger, stream.
    /// ARGV: entryId, group, now, modelUsed, price, fellBack, primaryError, contentType, bytes.
    /// </summary>
    public const string Complete = Prelude + """

        local entry, group, now = ARGV[1], ARGV[2], ARGV[3]
        local status = redis.call('HGET', KEYS[1], 'status')
        if (not status) or terminal(status) then
          if entry ~= '' then redis.call('XACK', KEYS[4], group, entry) end
          return {'already', status or 'missing'}
        end
        local gen = redis.call('HGET', KEYS[1], 'id')
        local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
        local charge = math.min(tonumber(ARGV[5]), reserved)
        local back = reserved - charge
        local bal
        if back > 0 then bal = redis.call('INCRBY', KEYS[2], back) else bal = tonumber(redis.call('GET', KEYS[2]) or '0') end
        ledger(KEYS[3], 'settle', gen, back, bal, now, {'charged', tostring(charge), 'model', ARGV[4]})
        redis.call('HSET', KEYS[1], 'status', 'succeeded', 'modelUsed', ARGV[4], 'fellBack', ARGV[6], 'primaryError', ARGV[7],
          'charged', tostring(charge), 'imageContentType', ARGV[8], 'imageBytes', ARGV[9], 'completedAt', now)
        if entry ~= '' then redis.call('XACK', KEYS[4], group, entry) end
        event(gen, 'succeeded')
        return {'succeeded', tostring(charge), tostring(bal)}
        """;

    /// <summary>
    /// End a generation without an image (failed or canceled), refund the reservation once, ack.
    /// KEYS: gen, balance, ledger, stream, deadLetter.
    /// ARGV: entryId, group, now, newStatus, errorCode, errorMessage, onlyFromQueued, deadLetterReason.
    /// </summary>
    public const string Finish = Prelude + """

        local entry, group, now, newStatus = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        local status = redis.call('HGET', KEYS[1], 'status')
        if not status then return {'missing'} end
        if terminal(status) or (ARGV[7] == '1' and status ~= 'queued') then
          if entry ~= '' and terminal(status) then redis.call('XACK', KEYS[4], group, entry) end
          return {'conflict', status}
        end
        local gen = redis.call('HGET', KEYS[1], 'id')
        local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
        local bal = redis.call('INCRBY', KEYS[2], reserved)
        ledger(KEYS[3], 'refund', gen, reserved, bal, now, {'reason', ARGV[5]})
        redis.call('HSET', KEYS[1], 'status', newStatus, 'refunded', tostring(reserved), 'errorCode', ARGV[5], 'errorMessage', ARGV[6], 'completedAt', now)
        if ARGV[8] ~= '' then
          redis.call('XADD', KEYS[5], '*', 'entryId', entry, 'id', gen, 'reason', ARGV[8])
        end
        if entry ~= '' then redis.call('XACK', KEYS[4], group, entry) end
        event(gen, newStatus)
        return {newStatus, tostring(reserved), tostring(bal)}
        """;

    /// <summary>Grant credits (admin). KEYS: balance, ledger. ARGV: amount, starterGrant, now, reason.</summary>
    public const string Grant = Prelude + """

        local amount, now = tonumber(ARGV[1]), ARGV[3]
        local bal = redis.call('GET', KEYS[1])
        if not bal then
          local starter = tonumber(ARGV[2])
          redis.call('SET', KEYS[1], starter)
          if starter > 0 then ledger(KEYS[2], 'grant', '', starter, starter, now, {'reason', 'starter'}) end
        end
        bal = redis.call('INCRBY', KEYS[1], amount)
        ledger(KEYS[2], 'grant', '', amount, bal, now, {'reason', ARGV[4]})
        return tostring(bal)
        """;

    /// <summary>
    /// Rename a generation the user owns. KEYS: gen. ARGV: userId, name ('' clears it).
    /// Checks the owner in the script so a rename never recreates a deleted record.
    /// </summary>
    public const string Rename = """
        if redis.call('HGET', KEYS[1], 'userId') ~= ARGV[1] then return 0 end
        if ARGV[2] == '' then redis.call('HDEL', KEYS[1], 'name') else redis.call('HSET', KEYS[1], 'name', ARGV[2]) end
        return 1
        """;

    /// <summary>
    /// Delete a succeeded generation (an avatar) the user owns: its record and its place in the
    /// user's list. The ledger keeps its entries. KEYS: gen, userGens. ARGV: userId, id.
    /// Returns 1 when deleted, 0 when not the user's or not an avatar.
    /// </summary>
    public const string DeleteAvatar = """
        if redis.call('HGET', KEYS[1], 'userId') ~= ARGV[1] then return 0 end
        if redis.call('HGET', KEYS[1], 'status') ~= 'succeeded' then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[2])
        return 1
        """;
}
