# Sourced by run.sh for --backend qemu: sets vm, the qemu command line.
if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
  accel=(-accel kvm -cpu host) kextra=
else
  accel=(-accel tcg,thread=multi -cpu max)
  # Under TCG the guest's TSC runs at the host's rate, but calibrating it against the emulated
  # PIT sometimes fails and the guest hangs in timer setup: give it the rate instead.
  khz=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)
  kextra=${khz:+"tsc_early_khz=$khz tsc=reliable no_timer_check"}
fi
vm=(qemu-system-x86_64 "${accel[@]}" -smp "$cpus" -m "$mem" -nodefaults -no-user-config
    -display none -vga none -no-reboot -M microvm,rtc=on
    -chardev file,id=con,path="$run/console.log",append=on -serial chardev:con
    -chardev file,id=out,path="$run/out.fifo" -chardev file,id=err,path="$run/err.fifo"
    -kernel "$KERNEL" -initrd "$INITRD"
    -append "console=ttyS0 panic=-1 reboot=t mitigations=off $kextra $cmdline"
    -fsdev local,id=fs0,path=/,security_model=passthrough,readonly=on,multidevs=remap
    -fsdev local,id=fs1,path="$run",security_model=passthrough
    # Plain virtio-serial ports, not virtconsole: qemu drops virtconsole output when the host
    # side is slow; ports are flow-controlled, and ~100x faster than a UART.
    -device virtio-serial-device -device virtserialport,chardev=out,name=vmout
    -device virtserialport,chardev=err,name=vmerr
    -device virtio-9p-device,fsdev=fs0,mount_tag=hostroot -device virtio-9p-device,fsdev=fs1,mount_tag=vmrun)
i=0
for p in "${shares[@]}"; do
  vm+=(-fsdev "local,id=fsrw$i,path=$p,security_model=passthrough" -device "virtio-9p-device,fsdev=fsrw$i,mount_tag=vmrw$i")
  i=$((i + 1))
done
[ -n "$disk" ] && vm+=(-drive "file=$run/disk.img,format=raw,if=none,id=d0,cache=unsafe" -device virtio-blk-device,drive=d0)
