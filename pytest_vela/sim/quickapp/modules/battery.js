/* @system.battery: getStatus from the rig file's [sim.device] battery_level and charging. */
'use strict'

const { makeModule } = require('../calls')

module.exports = function battery(app, id) {
  return makeModule(app, id, {
    getStatus(opts) {
      app.answer(opts, { charging: app.device.charging, level: app.device.battery_level })
    },
  })
}
