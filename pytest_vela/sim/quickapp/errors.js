/* An app that cannot be loaded: the rpk is not one the simulated watch can run. */
'use strict'

class LoadError extends Error {}

module.exports = { LoadError }
