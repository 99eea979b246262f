/*
 * @system.network: getType from the rig file's [sim.device] network_type. The type never
 * changes on the simulated watch, so subscribe's callback is never called; (un)subscribe
 * succeed.
 */
'use strict'

const { makeModule } = require('../calls')

module.exports = function network(app, id) {
  return makeModule(app, id, {
    getType(opts) {
      app.answer(opts, { type: app.device.network_type })
    },
    subscribe() {},
    unsubscribe() {},
  })
}
