//! Offline simulation of an inference subnet (`plexus sim network`); see the module docs once written.
