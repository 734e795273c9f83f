# Sourced by Interop/run.sh and scripts/media-interop.sh (from the repository root): the Python
# environment of the aioice/aiortc peers, Interop/.venv, made when aioice or aiortc is missing.
# Sets VENV. Environment: AIOICE_SPEC (default aioice==0.13.0, the version aioice_peer.py was
# written against), AIORTC_SPEC (default aiortc==1.16.0).
VENV=Interop/.venv
AIOICE_SPEC=${AIOICE_SPEC:-aioice==0.13.0}
AIORTC_SPEC=${AIORTC_SPEC:-aiortc==1.16.0}
if ! "$VENV/bin/python" -c 'import aioice, aiortc' 2>/dev/null; then
    echo "--- creating $VENV with $AIOICE_SPEC $AIORTC_SPEC"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    timeout 300 "$VENV/bin/pip" install --quiet --disable-pip-version-check "$AIOICE_SPEC" "$AIORTC_SPEC"
fi
echo "--- aioice $("$VENV/bin/python" -c 'import aioice; print(aioice.__version__)'), aiortc $("$VENV/bin/python" -c 'import aiortc; print(aiortc.__version__)')"
