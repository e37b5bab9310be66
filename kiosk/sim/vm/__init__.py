"""Power cuts in a virtual machine: a Debian guest under QEMU runs the kiosk under load, the host
kills QEMU (no shutdown: the guest's page cache and unflushed writes are gone), boots it again and
checks that nothing the kiosk acknowledged was lost (docs/reliability.md, "Power cuts").

`guest_root` builds and caches the guest (debootstrap, Debian's kernel, the kiosk's wheels),
`disks` packs directories into ext4 images, `machine` runs QEMU, `guest_load` runs inside the
guest, `ledger` checks each boot's state against what was acknowledged, `campaign` cuts the
power N times.
"""
