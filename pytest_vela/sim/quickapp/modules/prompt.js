/*
 * @system.prompt: a toast is a `[SYS]` line; a dialog or context menu is a `[SYS]` line, then
 * waits for the person at the watch: the watch's platform answers with the next answer a test
 * gave (vela_sim.answer_dialogs), `{index}` of the button or item tapped, or `{}`
 * when the dialog was dismissed. Then success({index}) or cancel(), and complete.
 */
'use strict'

const { CODE, options, makeModule } = require('../calls')
const { sysLine } = require('../format')

module.exports = function prompt(app, id) {
  // Shows `choices` and waits for the answer; `shown` are the call's values worth a line.
  const ask = (method, opts, choices, shown) => {
    const o = options(opts)
    app.system(sysLine('prompt', method, shown))
    app.call(id, method, { choices: choices }, o, (msg) => {
      if (!msg.ok) {
        app.settle(o, msg)
        return
      }
      const index = (msg.value || {}).index
      if (Number.isInteger(index) && index >= 0 && index < choices.length) {
        app.system(sysLine('prompt', method, ['tapped ' + choices[index]]))
        app.run(o.success, o, [app.toApp({ index: index })])
      } else {
        app.system(sysLine('prompt', method, ['dismissed']))
        app.run(o.cancel, o, [])
      }
      app.run(o.complete, o, [])
    })
  }
  return makeModule(app, id, {
    showToast(opts) {
      const o = options(opts)
      if (o.message === undefined || o.message === null) {
        app.refuse(opts, 'message is required', CODE.PARAMETER)
        return
      }
      app.system(sysLine('prompt', 'showToast', [String(o.message)]))
      app.answer(opts)
    },
    showDialog(opts) {
      const o = options(opts)
      const buttons = Array.isArray(o.buttons) ? o.buttons.slice(0, 3) : []
      const texts = buttons.map((b) => String(options(b).text === undefined ? b : b.text))
      ask('showDialog', o, texts, [o.title, o.message, texts])
    },
    showContextMenu(opts) {
      const o = options(opts)
      if (!Array.isArray(o.itemList) || o.itemList.length === 0) {
        app.refuse(opts, 'itemList must be an array of texts', CODE.PARAMETER)
        return
      }
      const items = o.itemList.map(String)
      ask('showContextMenu', o, items, [items])
    },
  })
}
