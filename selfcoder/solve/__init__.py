"""One agent run and the attempts of one solve: `runner` (sandbox + model gateway + scaffold,
then validation of the patch in a fresh sandbox) and `attempts` (several differing attempts under
one budget and cancel, the validated patch chosen). Used by `solve`, the language server and eval."""
