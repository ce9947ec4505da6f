-- Unit specs: JSON for the scripts (REAPER's Lua has none): vendored dkjson behind semeq/json.lua.

local H = require("helpers")

describe("JSON (semeq/json.lua over dkjson)", function()
  local json
  before_each(function() H.new(); json = H.module().json end)

  it("decodes the members an answer carries", function()
    local v = json.decode('{"ok": true, "id": "r1", "n": -1.5e2, "z": 0, "list": [1, 2.5, "x", null, false],'
      .. ' "nested": {"a": {"b": []}}, "s": "tab\\tquote\\" slash\\/ \\u00e9\\ud83c\\udfb8"}')
    assert.is_true(v.ok)
    assert.are.equal("r1", v.id)
    assert.are.equal(-150, v.n)
    assert.are.equal(0, v.z)
    assert.are.equal(2.5, v.list[2])
    assert.are.equal(json.null, v.list[4])
    assert.is_false(v.list[5])
    assert.are.same({}, v.nested.a.b)
    assert.are.equal('tab\tquote" slash/ \u{e9}\u{1F3B8}', v.s)
  end)

  it("round-trips what it encodes, numbers to 14 significant digits (dkjson's precision)", function()
    local value = { low_shelf_gain_db = 2.125, name = 'a "b"\n', list = { 1, 2, 3 }, flag = false }
    local back = json.decode(json.encode(value))
    assert.are.same(value, back)
    assert.are.near(2.123456789012345, json.decode(json.encode({ x = 2.123456789012345 })).x, 1e-12)
    assert.are.equal('[]', json.encode(json.array({})))
  end)

  it("refuses malformed text with the position", function()
    for _, bad in ipairs({ '{"a": }', '[1, 2', '"open', '{"a": 1} x', 'nul', '' }) do
      local ok, err = pcall(json.decode, bad)
      assert.is_false(ok, bad)
      assert.matches("invalid JSON", err)
    end
  end)

  it("writes NaN and infinities as null and refuses what JSON cannot hold", function()
    assert.are.equal('{"x":null}', json.encode({ x = 0 / 0 }))
    assert.has_error(function() json.encode({ f = print }) end)
  end)
end)
