/*
 * @system.interconnect: a thin proxy. Every rule of the link lives in the watch's platform
 * model, which answers the `call`s made here and sends the connection's events.
 */
'use strict'

const { CODE, makeModule } = require('../calls')

module.exports = function interconnect(app, id) {
  const connection = () => {
    const conn = app.object()
    conn.getReadyState = (opts) => app.call(id, 'getReadyState', {}, opts)
    conn.diagnosis = (opts) => {
      const args = {}
      if (opts && opts.timeout !== undefined) args.timeout = opts.timeout
      app.call(id, 'diagnosis', args, opts)
    }
    conn.send = (opts) => {
      let text
      try {
        text = opts ? JSON.stringify(opts.data) : undefined
      } catch (e) {
        app.refuse(opts, 'data cannot be serialised: ' + e.message, CODE.PARAMETER)
        return
      }
      if (typeof text !== 'string') {
        app.refuse(opts, 'send needs data, an Object', CODE.PARAMETER)
        return
      }
      app.call(id, 'send', { data: text }, opts)
    }
    return conn
  }
  return makeModule(app, id, {
    // The app's one connection (a singleton).
    instance() {
      if (app.conn === null) app.conn = connection()
      return app.conn
    },
  })
}
