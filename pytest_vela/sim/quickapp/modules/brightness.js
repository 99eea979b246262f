/*
 * @system.brightness: the screen's brightness (0–255, from the rig file's [sim.device]
 * brightness), its mode (0 manual, 1 automatic) and keep-screen-on, held while the app runs;
 * each change a `[SYS]` line. A value out of range, or a mode not 0/1, fails 202.
 */
'use strict'

const { CODE, options, makeModule } = require('../calls')
const { sysLine } = require('../format')

module.exports = function brightness(app, id) {
  const screen = { value: app.device.brightness, mode: 0 }
  const change = (method, opts, key, valid) => {
    const value = options(opts)[key]
    if (!valid(value)) {
      app.refuse(opts, key + ' is not a valid value', CODE.PARAMETER)
      return
    }
    app.system(sysLine('brightness', method, [value]))
    if (key !== 'keepScreenOn') screen[key] = value
    app.answer(opts)
  }
  return makeModule(app, id, {
    getValue(opts) {
      app.answer(opts, { value: screen.value })
    },
    setValue(opts) {
      change('setValue', opts, 'value', (v) => Number.isInteger(v) && v >= 0 && v <= 255)
    },
    getMode(opts) {
      app.answer(opts, { mode: screen.mode })
    },
    setMode(opts) {
      change('setMode', opts, 'mode', (v) => v === 0 || v === 1)
    },
    setKeepScreenOn(opts) {
      change('setKeepScreenOn', opts, 'keepScreenOn', (v) => typeof v === 'boolean')
    },
  })
}
