# Shared by the guests' /init scripts (busybox ash). Sourced, never run.
# Kernel modules live flat in /lib/modules/g7lab with a load order (dependencies first).

MODULES=/lib/modules/g7lab
BB=/bin/busybox

mount_basics() {
    $BB mkdir -p /proc /sys /dev /run /tmp /root
    $BB mount -t proc proc /proc
    $BB mount -t sysfs sysfs /sys
    $BB mount -t devtmpfs devtmpfs /dev
    $BB mkdir -p /dev/pts
    $BB mount -t devpts devpts /dev/pts
    $BB mount -t tmpfs -o mode=0755 tmpfs /run
    $BB mount -t tmpfs tmpfs /tmp
    echo 1 > /proc/sys/kernel/printk  # kernel messages would garble the screens: emergencies only
}

cmdline_value() {  # $1: a kernel parameter name; prints its value
    for word in $($BB cat /proc/cmdline); do
        case "$word" in "$1="*) echo "${word#*=}" ;; esac
    done
}

load_modules() {  # $1: the load order file (recovery.load / appliance.load)
    for name in $($BB cat "$MODULES/$1"); do
        case "$name" in
            usb_storage) $BB insmod "$MODULES/$name.ko" delay_use=0 2>/dev/null ;;
            *) $BB insmod "$MODULES/$name.ko" 2>/dev/null ;;
        esac
    done
}

virtio_port_links() {  # what udev would do: /dev/virtio-ports/NAME -> /dev/vportNpM
    $BB mkdir -p /dev/virtio-ports
    for port in /sys/class/virtio-ports/vport*; do
        [ -r "$port/name" ] || continue
        $BB ln -sf "../${port##*/}" "/dev/virtio-ports/$($BB cat "$port/name")"
    done
}

power() {  # $1: reboot | poweroff. Tell the host which one (it cannot tell them apart), then do it.
    port=/dev/virtio-ports/org.g7lab.power
    if [ -c "$port" ]; then
        # The host answers "ok" once it has the word; a host that never listens costs two seconds.
        $BB timeout 2 $BB sh -c "exec 3<>$port; echo $1 >&3; read -r ack <&3" 2>/dev/null
    fi
    $BB sync
    echo 0 > /proc/sys/kernel/printk  # no "reboot: Power down" line: the firmware takes over the screen
    $BB "$1" -f
}
