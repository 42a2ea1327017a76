// SPDX-License-Identifier: GPL-2.0
/*
 * vfc_ring_bench: vfc's virtqueue against the kernel's own virtio_ring, in
 * one boot, under the same conditions.
 *
 * Both stacks get a queue of the same size over the same DMA device (a
 * plain platform device, no IOMMU: the DMA API maps directly), with the
 * same ring features. One device, written here once per layout, serves
 * both: it reads each ring through the three addresses a transport would
 * program ("2.7 Split Virtqueues", "2.8 Packed Virtqueues"), uses every
 * available buffer, and decides from the driver's event suppression
 * whether to interrupt, as a device would. The driver loop is the same
 * for both: add a batch of buffers of two readable entries each (so
 * VIRTIO_F_INDIRECT_DESC matters), kick, let the device run, collect the
 * used buffers.
 *
 * Writing a cell's number to debugfs vfc_ring_bench/run measures it (the
 * cells: {split, packed} x batch {1, 16, 64} x indirect x event_idx):
 * a warm-up, then @runs timed runs of @buffers buffers per stack,
 * alternating which stack goes first, on one CPU. Reading the file gives
 * the cell's line: layout, batch, indirect, event_idx, buffers, the
 * median ns per 1000 buffers of the kernel and of vfc, and the last run's
 * notifications, interrupts and callbacks of each. Not part of make
 * check: make bench runs it (testbed/test_demo.py).
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/virtio.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ring.h>

#include "../vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

static unsigned int runs = 11;
module_param(runs, uint, 0644);
MODULE_PARM_DESC(runs, "timed runs per stack and cell (median taken)");
static unsigned int buffers = 1 << 20;
module_param(buffers, uint, 0644);
MODULE_PARM_DESC(buffers, "buffers per timed run");

#define RB_NUM		256	/* ring entries, both stacks */
#define RB_MAX_BATCH	64
#define RB_MAX_RUNS	31
#define RB_BUF_LEN	64	/* bytes per scatterlist entry */

/* The device's side of one queue: where the rings are, and its state. */
struct rb_dev {
	bool packed;
	bool event_idx;
	void *desc;
	void *driver;		/* split: available ring; packed: driver event */
	void *device;		/* split: used ring; packed: device event */
	u16 last_avail;		/* split: free-running; packed: position */
	u16 used_idx;
	bool avail_wrap;
	bool used_wrap;
	unsigned long kicks;
	unsigned long irqs;
	unsigned long callbacks;
	u64 phase_ns[4];	/* add, kick, device and interrupt, get */
};

static struct platform_device *rb_pdev;
static struct dentry *rb_dir;
static char *rb_out;		/* the last cell's line, a page */
static size_t rb_out_len;
static DEFINE_MUTEX(rb_lock);

static void *rb_virt(dma_addr_t a)
{
	return phys_to_virt((phys_addr_t)a);
}

/* Split: use every available buffer; whether the driver wants an interrupt. */
static bool rb_split_run(struct rb_dev *d)
{
	struct vring_desc *desc = d->desc;
	struct vring_avail *avail = d->driver;
	struct vring_used *used = d->device;
	u16 avail_idx = __virtio16_to_cpu(true, READ_ONCE(avail->idx));
	u16 old = d->used_idx;
	u16 head, i;

	/* The ring entries after the index that published them. */
	virt_rmb();
	while (d->last_avail != avail_idx) {
		head = __virtio16_to_cpu(true, avail->ring[d->last_avail % RB_NUM]);
		/* The device walks the chain, as it would to read the buffer. */
		for (i = head; __virtio16_to_cpu(true, desc[i].flags) & VRING_DESC_F_NEXT;)
			i = __virtio16_to_cpu(true, desc[i].next);
		used->ring[d->used_idx % RB_NUM].id = __cpu_to_virtio32(true, head);
		used->ring[d->used_idx % RB_NUM].len = 0;
		d->used_idx++;
		d->last_avail++;
	}
	/* Notify me when you add the next one (used->avail_event). */
	if (d->event_idx)
		WRITE_ONCE(*(__virtio16 *)&used->ring[RB_NUM],
			   __cpu_to_virtio16(true, d->last_avail));
	/* The used entries before the index that publishes them. */
	virt_wmb();
	WRITE_ONCE(used->idx, __cpu_to_virtio16(true, d->used_idx));
	/* The index out before the driver's event suppression is read. */
	virt_mb();
	if (old == d->used_idx)
		return false;
	/* avail->used_event, or the flag. */
	if (d->event_idx)
		return vring_need_event(__virtio16_to_cpu(true,
							  READ_ONCE(avail->ring[RB_NUM])),
					d->used_idx, old);
	return !(__virtio16_to_cpu(true, READ_ONCE(avail->flags)) &
		 VRING_AVAIL_F_NO_INTERRUPT);
}

static bool rb_packed_avail(struct rb_dev *d, u16 flags)
{
	bool a = flags & (1 << VRING_PACKED_DESC_F_AVAIL);
	bool u = flags & (1 << VRING_PACKED_DESC_F_USED);

	return a == d->avail_wrap && u != d->avail_wrap;
}

/* Packed: the same; the used descriptor goes where the chain began. */
static bool rb_packed_run(struct rb_dev *d)
{
	struct vring_packed_desc *desc = d->desc;
	struct vring_packed_desc_event *drv = d->driver;
	struct vring_packed_desc_event *dev = d->device;
	u16 old = d->used_idx, n = 0, id, flags, ev, off;
	bool any = false;

	while (rb_packed_avail(d, le16_to_cpu(READ_ONCE(desc[d->last_avail].flags)))) {
		/* The descriptors after the flags that made them available. */
		virt_rmb();
		for (n = 1;; n++) {
			flags = le16_to_cpu(desc[(d->last_avail + n - 1) % RB_NUM].flags);
			if (!(flags & VRING_DESC_F_NEXT))
				break;
		}
		id = le16_to_cpu(desc[(d->last_avail + n - 1) % RB_NUM].id);
		d->last_avail += n;
		if (d->last_avail >= RB_NUM) {
			d->last_avail -= RB_NUM;
			d->avail_wrap = !d->avail_wrap;
		}
		desc[d->used_idx].id = cpu_to_le16(id);
		desc[d->used_idx].len = 0;
		flags = d->used_wrap ? (1 << VRING_PACKED_DESC_F_AVAIL) |
				       (1 << VRING_PACKED_DESC_F_USED) : 0;
		/* The used entry before the flags that publish it. */
		virt_wmb();
		WRITE_ONCE(desc[d->used_idx].flags, cpu_to_le16(flags));
		d->used_idx += n;
		if (d->used_idx >= RB_NUM) {
			d->used_idx -= RB_NUM;
			d->used_wrap = !d->used_wrap;
		}
		any = true;
	}
	if (d->event_idx) {
		dev->off_wrap = cpu_to_le16(d->last_avail | d->avail_wrap << 15);
		WRITE_ONCE(dev->flags, cpu_to_le16(VRING_PACKED_EVENT_FLAG_DESC));
	}
	/* The used flags out before the driver's event suppression is read. */
	virt_mb();
	if (!any)
		return false;
	flags = le16_to_cpu(READ_ONCE(drv->flags));
	if (flags == VRING_PACKED_EVENT_FLAG_ENABLE)
		return true;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC)
		return false;
	ev = le16_to_cpu(READ_ONCE(drv->off_wrap));
	off = ev & 0x7fff;
	if (!!(ev >> 15) != d->used_wrap)
		off -= RB_NUM;
	if (d->used_idx < old)
		old -= RB_NUM;
	return vring_need_event(off, d->used_idx, old);
}

static bool rb_dev_run(struct rb_dev *d)
{
	return d->packed ? rb_packed_run(d) : rb_split_run(d);
}

static void rb_dev_init(struct rb_dev *d, bool packed, bool event_idx,
			dma_addr_t desc, dma_addr_t drv, dma_addr_t dev)
{
	memset(d, 0, sizeof(*d));
	d->packed = packed;
	d->event_idx = event_idx;
	d->desc = rb_virt(desc);
	d->driver = rb_virt(drv);
	d->device = rb_virt(dev);
	d->avail_wrap = true;
	d->used_wrap = true;
}

/* One stack's queue, behind the same little interface. */
struct rb_stack {
	const char *name;
	int (*create)(struct rb_stack *s, u64 features);
	void (*destroy)(struct rb_stack *s);
	int (*add)(struct rb_stack *s, struct scatterlist *sgs[], void *data);
	void (*kick)(struct rb_stack *s);
	void *(*get)(struct rb_stack *s);
	void (*interrupt)(struct rb_stack *s);
	struct rb_dev dev;
	struct virtio_device kvdev;
	struct virtqueue *kvq;
	struct vfc_device vvdev;
	struct vfc_virtqueue *vvq;
	u8 status;
};

static bool rb_k_notify(struct virtqueue *vq)
{
	struct rb_stack *s = container_of(vq->vdev, struct rb_stack, kvdev);

	s->dev.kicks++;
	return true;
}

static void rb_k_callback(struct virtqueue *vq)
{
	struct rb_stack *s = container_of(vq->vdev, struct rb_stack, kvdev);

	s->dev.callbacks++;
}

static int rb_k_create(struct rb_stack *s, u64 features)
{
	memset(&s->kvdev, 0, sizeof(s->kvdev));
	s->kvdev.dev.parent = &rb_pdev->dev;
	s->kvdev.features = features;
	INIT_LIST_HEAD(&s->kvdev.vqs);
	spin_lock_init(&s->kvdev.vqs_list_lock);
	s->kvq = vring_create_virtqueue(0, RB_NUM, SMP_CACHE_BYTES, &s->kvdev,
					true, false, false, rb_k_notify,
					rb_k_callback, "bench");
	if (!s->kvq)
		return -ENOMEM;
	rb_dev_init(&s->dev, features & BIT_ULL(VIRTIO_F_RING_PACKED),
		    features & BIT_ULL(VIRTIO_RING_F_EVENT_IDX),
		    virtqueue_get_desc_addr(s->kvq),
		    virtqueue_get_avail_addr(s->kvq),
		    virtqueue_get_used_addr(s->kvq));
	return 0;
}

static void rb_k_destroy(struct rb_stack *s)
{
	vring_del_virtqueue(s->kvq);
}

static int rb_k_add(struct rb_stack *s, struct scatterlist *sgs[], void *data)
{
	return virtqueue_add_sgs(s->kvq, sgs, 1, 0, data, GFP_ATOMIC);
}

static void rb_k_kick(struct rb_stack *s)
{
	virtqueue_kick(s->kvq);
}

static void *rb_k_get(struct rb_stack *s)
{
	unsigned int len;

	return virtqueue_get_buf(s->kvq, &len);
}

static void rb_k_interrupt(struct rb_stack *s)
{
	vring_interrupt(0, s->kvq);
}

static bool rb_v_notify(struct vfc_virtqueue *vq)
{
	struct rb_stack *s = container_of(vq->vdev, struct rb_stack, vvdev);

	s->dev.kicks++;
	return true;
}

static void rb_v_callback(struct vfc_virtqueue *vq)
{
	struct rb_stack *s = container_of(vq->vdev, struct rb_stack, vvdev);

	s->dev.callbacks++;
}

/* The transport's part vfc_device_ready() needs: a status byte. */
static u8 rb_v_get_status(struct vfc_device *vdev)
{
	return container_of(vdev, struct rb_stack, vvdev)->status;
}

static void rb_v_set_status(struct vfc_device *vdev, u8 status)
{
	container_of(vdev, struct rb_stack, vvdev)->status = status;
}

static const struct vfc_config_ops rb_v_config = {
	.get_status = rb_v_get_status,
	.set_status = rb_v_set_status,
};

static int rb_v_create(struct rb_stack *s, u64 features)
{
	struct vfc_vring_config cfg = {
		.num = RB_NUM,
		.vring_align = SMP_CACHE_BYTES,
		.weak_barriers = true,
		.notify = rb_v_notify,
		.callback = rb_v_callback,
		.name = "bench",
		.dma_dev = &rb_pdev->dev,
	};

	memset(&s->vvdev, 0, sizeof(s->vvdev));
	s->vvdev.dev.init_name = "vfc_ring_bench";
	s->vvdev.features = features;
	s->vvdev.config = &rb_v_config;
	s->status = 0;
	INIT_LIST_HEAD(&s->vvdev.vqs);
	spin_lock_init(&s->vvdev.vqs_list_lock);
	s->vvq = vfc_vring_create_virtqueue(&s->vvdev, &cfg);
	if (IS_ERR_OR_NULL(s->vvq))
		return s->vvq ? PTR_ERR(s->vvq) : -ENOMEM;
	/* DRIVER_OK: from now on an interrupt may call back. */
	vfc_device_ready(&s->vvdev);
	rb_dev_init(&s->dev, features & BIT_ULL(VIRTIO_F_RING_PACKED),
		    features & BIT_ULL(VIRTIO_RING_F_EVENT_IDX),
		    vfc_vq_get_desc_addr(s->vvq), vfc_vq_get_avail_addr(s->vvq),
		    vfc_vq_get_used_addr(s->vvq));
	return 0;
}

static void rb_v_destroy(struct rb_stack *s)
{
	vfc_vring_del_virtqueue(s->vvq);
}

static int rb_v_add(struct rb_stack *s, struct scatterlist *sgs[], void *data)
{
	return vfc_vq_add_sgs(s->vvq, sgs, 1, 0, data, GFP_ATOMIC);
}

static void rb_v_kick(struct rb_stack *s)
{
	vfc_vq_kick(s->vvq);
}

static void *rb_v_get(struct rb_stack *s)
{
	unsigned int len;

	return vfc_vq_get_buf(s->vvq, &len);
}

static void rb_v_interrupt(struct rb_stack *s)
{
	vfc_vring_interrupt(0, s->vvq);
}

static struct rb_stack rb_stacks[2] = {
	{ .name = "kernel", .create = rb_k_create, .destroy = rb_k_destroy,
	  .add = rb_k_add, .kick = rb_k_kick, .get = rb_k_get,
	  .interrupt = rb_k_interrupt },
	{ .name = "vfc", .create = rb_v_create, .destroy = rb_v_destroy,
	  .add = rb_v_add, .kick = rb_v_kick, .get = rb_v_get,
	  .interrupt = rb_v_interrupt },
};

/* The buffers: prepared once, outside every timed region. */
struct rb_bufs {
	struct scatterlist sg[RB_MAX_BATCH][2];
	struct scatterlist *sgs[RB_MAX_BATCH][1];
	u8 data[RB_MAX_BATCH][2][RB_BUF_LEN];
};

static struct rb_bufs *rb_bufs;

/*
 * @n buffers through @s in batches of @batch. Return: ns, or -EIO if the
 * stack refused a buffer or lost one.
 */
static s64 rb_time(struct rb_stack *s, unsigned int batch, unsigned int n,
		   bool phases)
{
	unsigned int i, added, done = 0;
	u64 start = ktime_get_ns(), t[5];

	while (done < n) {
		if (phases)
			t[0] = ktime_get_ns();
		for (i = 0, added = 0; i < batch; i++, added++)
			if (s->add(s, rb_bufs->sgs[i], &rb_bufs->sg[i][0]))
				return -EIO;
		if (phases)
			t[1] = ktime_get_ns();
		s->kick(s);
		if (phases)
			t[2] = ktime_get_ns();
		if (rb_dev_run(&s->dev)) {
			s->dev.irqs++;
			s->interrupt(s);
		}
		if (phases)
			t[3] = ktime_get_ns();
		while (added && s->get(s)) {
			added--;
			done++;
		}
		if (added)
			return -EIO;
		if (phases) {
			t[4] = ktime_get_ns();
			for (i = 0; i < 4; i++)
				s->dev.phase_ns[i] += t[i + 1] - t[i];
		}
	}
	return ktime_get_ns() - start;
}

static int rb_cmp(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

struct rb_cell {
	bool packed;
	unsigned int batch;
	bool indirect;
	bool event_idx;
};

struct rb_result {
	s64 ns[2][RB_MAX_RUNS];
	unsigned long kicks[2];
	unsigned long irqs[2];
	unsigned long callbacks[2];
	u64 phase_ns[2][4];
};

static int rb_cell(const struct rb_cell *c, struct rb_result *r)
{
	u64 f = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);
	unsigned int run, k, which;
	int err;

	if (c->packed)
		f |= BIT_ULL(VIRTIO_F_RING_PACKED);
	if (c->indirect)
		f |= BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	if (c->event_idx)
		f |= BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	for (k = 0; k < 2; k++) {
		err = rb_stacks[k].create(&rb_stacks[k], f);
		if (err) {
			while (k--)
				rb_stacks[k].destroy(&rb_stacks[k]);
			return err;
		}
	}
	/* A warm-up run each, then ABAB. */
	for (run = 0; run <= runs; run++) {
		for (k = 0; k < 2; k++) {
			which = (run + k) % 2;
			rb_stacks[which].dev.kicks = 0;
			rb_stacks[which].dev.irqs = 0;
			rb_stacks[which].dev.callbacks = 0;
			memset(rb_stacks[which].dev.phase_ns, 0,
			       sizeof(rb_stacks[which].dev.phase_ns));
			r->ns[which][run ? run - 1 : 0] =
				rb_time(&rb_stacks[which], c->batch,
					run ? buffers : buffers / 16, !run);
			if (r->ns[which][run ? run - 1 : 0] < 0) {
				err = -EIO;
				goto out;
			}
			r->kicks[which] = rb_stacks[which].dev.kicks;
			r->irqs[which] = rb_stacks[which].dev.irqs;
			r->callbacks[which] = rb_stacks[which].dev.callbacks;
			if (!run)
				memcpy(r->phase_ns[which], rb_stacks[which].dev.phase_ns,
				       sizeof(r->phase_ns[which]));
			cond_resched();
		}
	}
out:
	for (k = 0; k < 2; k++)
		rb_stacks[k].destroy(&rb_stacks[k]);
	return err;
}

/* Cell @i: layout, batch, indirect, event_idx, in the order of the table. */
static void rb_cell_of(unsigned int i, struct rb_cell *c)
{
	static const unsigned int batches[] = { 1, 16, 64 };

	c->packed = i / 12;
	c->batch = batches[i / 4 % 3];
	c->indirect = i / 2 % 2;
	c->event_idx = i % 2;
}

#define RB_CELLS	24

/* Measure cell @i and keep its line for the next read. */
static int rb_measure(unsigned int i)
{
	struct rb_result *r;
	struct rb_cell c;
	unsigned int k;
	size_t len;
	u64 med[2];
	int err;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	rb_cell_of(i, &c);
	err = rb_cell(&c, r);
	if (err)
		goto out;
	for (k = 0; k < 2; k++) {
		sort(r->ns[k], runs, sizeof(s64), rb_cmp, NULL);
		/* ns per 1000 buffers: the line needs no floating point. */
		med[k] = div_u64(r->ns[k][runs / 2], buffers / 1000);
	}
	mutex_lock(&rb_lock);
	len = scnprintf(rb_out, PAGE_SIZE,
			"%s %u %s %s %u %llu %llu %lu %lu %lu %lu %lu %lu",
			c.packed ? "packed" : "split", c.batch,
			c.indirect ? "on" : "off", c.event_idx ? "on" : "off",
			buffers, med[0], med[1], r->kicks[0], r->kicks[1],
			r->irqs[0], r->irqs[1], r->callbacks[0], r->callbacks[1]);
	/* Where the warm-up run's time went, ns per 1000 buffers. */
	for (k = 0; k < 8; k++)
		len += scnprintf(rb_out + len, PAGE_SIZE - len, " %llu",
				 div_u64(r->phase_ns[k / 4][k % 4],
					 buffers / 16 / 1000));
	len += scnprintf(rb_out + len, PAGE_SIZE - len, "\n");
	rb_out_len = len;
	mutex_unlock(&rb_lock);
out:
	kfree(r);
	return err;
}

/*
 * Write a cell's number (0 to RB_CELLS - 1) to measure it; a cell takes
 * seconds, the table minutes, so make bench asks for one at a time. The
 * writer runs it, bound to one CPU: both stacks and the device share it.
 */
static ssize_t rb_run_write(struct file *f, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	unsigned int i;
	int err;

	err = kstrtouint_from_user(buf, count, 0, &i);
	if (err)
		return err;
	if (i >= RB_CELLS || !runs || runs > RB_MAX_RUNS || buffers < 1000)
		return -EINVAL;
	err = set_cpus_allowed_ptr(current, cpumask_of(cpumask_first(cpu_online_mask)));
	if (!err)
		err = rb_measure(i);
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	return err ? err : count;
}

static ssize_t rb_run_read(struct file *f, char __user *buf, size_t count,
			   loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&rb_lock);
	ret = simple_read_from_buffer(buf, count, ppos, rb_out, rb_out_len);
	mutex_unlock(&rb_lock);
	return ret;
}

static const struct file_operations rb_run_fops = {
	.owner = THIS_MODULE,
	.write = rb_run_write,
	.read = rb_run_read,
	.llseek = default_llseek,
};

static int __init rb_init(void)
{
	unsigned int i, j;
	int err;

	rb_bufs = kzalloc(sizeof(*rb_bufs), GFP_KERNEL);
	rb_out = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!rb_bufs || !rb_out) {
		err = -ENOMEM;
		goto err_bufs;
	}
	for (i = 0; i < RB_MAX_BATCH; i++) {
		sg_init_table(rb_bufs->sg[i], 2);
		for (j = 0; j < 2; j++)
			sg_set_buf(&rb_bufs->sg[i][j], rb_bufs->data[i][j],
				   RB_BUF_LEN);
		rb_bufs->sgs[i][0] = rb_bufs->sg[i];
	}
	rb_pdev = platform_device_register_simple("vfc_ring_bench", -1, NULL, 0);
	if (IS_ERR(rb_pdev)) {
		err = PTR_ERR(rb_pdev);
		goto err_bufs;
	}
	err = dma_coerce_mask_and_coherent(&rb_pdev->dev, DMA_BIT_MASK(64));
	if (err)
		goto err_pdev;
	rb_dir = debugfs_create_dir("vfc_ring_bench", NULL);
	debugfs_create_file("run", 0600, rb_dir, NULL, &rb_run_fops);
	return 0;

err_pdev:
	platform_device_unregister(rb_pdev);
err_bufs:
	kfree(rb_out);
	kfree(rb_bufs);
	return err;
}

static void __exit rb_exit(void)
{
	debugfs_remove_recursive(rb_dir);
	platform_device_unregister(rb_pdev);
	kfree(rb_out);
	kfree(rb_bufs);
}

module_init(rb_init);
module_exit(rb_exit);
MODULE_DESCRIPTION("vfc's virtqueue against the kernel's virtio_ring, same boot");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(VFC_NS);
