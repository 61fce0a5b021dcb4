# Sourced by the bench scripts: sets `bin` to $HOOKRELAY when given (a build of another commit,
# to compare), else to a release build of this checkout, built first.
if [ -n "${HOOKRELAY:-}" ]; then
    bin=$HOOKRELAY
else
    swift build -c release --product hookrelay >&2
    bin=$(swift build -c release --show-bin-path)/hookrelay
fi
