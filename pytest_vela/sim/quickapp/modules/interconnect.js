/*
 * @system.interconnect: a thin proxy of the watch's platform model, which holds every rule of
 * the link (sim/platform.py); the part that runs in the app's own realm is ../interconnect.js.
 */
'use strict'

module.exports = function interconnect(app) {
  return app.linkOf().module
}
