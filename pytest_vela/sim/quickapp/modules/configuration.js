/* @system.configuration: getLocale from the rig file's [sim.device] language and region. */
'use strict'

const { makeModule } = require('../calls')

module.exports = function configuration(app, id) {
  return makeModule(app, id, {
    getLocale() {
      return app.toApp({ language: app.device.language, countryOrRegion: app.device.region })
    },
  })
}
