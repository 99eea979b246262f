/*
 * @system.router: the page stack of pages.js. push / replace / back / clear take effect after
 * the call (each a `[SYS]` line, the screen changing); getLength / getState / getPages answer
 * at once.
 */
'use strict'

const { options, makeModule } = require('../calls')
const { LoadError } = require('../errors')
const { sysLine } = require('../format')

const CLEAR_TASK = '___PARAM_LAUNCH_FLAG___'

module.exports = function router(app, id) {
  const pages = app.pages
  // Opens the page `uri` names, with its params (the launch flag is the router's, not a param).
  const open = (how, opts) => {
    const o = options(opts)
    const params = Object.assign({}, options(o.params))
    const clearTask = params[CLEAR_TASK] === 'clearTask'
    delete params[CLEAR_TASK]
    const name = pages.resolve(o.uri)
    const shown = Object.keys(params).length ? [o.uri, params] : [o.uri]
    if (name === null) {
      app.system(sysLine('router', how, shown) + ' (no such page: nothing happens)')
      return
    }
    app.system(sysLine('router', how, [name].concat(shown.slice(1))))
    app.later(() => navigate(() => pages[how](name, params, clearTask), name))
  }
  const navigate = (step, name) => {
    try {
      step()
    } catch (e) {
      // A page that cannot be loaded: said on the console, the stack stays as it was; one
      // whose bundle throws: the app's uncaught error.
      if (!(e instanceof LoadError)) app.uncaught(e, false)
      else app.print('error', ['router: cannot open ' + name + ': ' + e.message])
    }
  }
  return makeModule(app, id, {
    push(opts) {
      open('push', opts)
    },
    replace(opts) {
      open('replace', opts)
    },
    back(opts) {
      const path = options(opts).path
      app.system(sysLine('router', 'back', [path]))
      app.later(() => pages.back(path))
    },
    clear() {
      app.system(sysLine('router', 'clear', []))
      pages.clear()
    },
    getLength() {
      return pages.stack.length
    },
    getState() {
      return app.toApp(pages.state())
    },
    getPages() {
      return app.toApp(pages.stack.map((page) => ({ name: page.name, path: page.info.path })))
    },
  })
}
