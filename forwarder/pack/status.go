package pack

// Status conversion.
//
// osquery relays each status log to an extension logger as a compact
// element {"s":severity,"f":file,"i":line,"m":message,"h":host,"c":calendar
// time,"u":unix time}. Its aws loggers (via BufferedLogForwarder) ship
// status logs as
//
//	{"hostIdentifier":h,"calendarTime":c,"unixTime":u,"severity":s,
//	 "filename":f,"line":i,"message":m,"version":v,"log_type":"status"}
//
// convertStatus produces that order. Values are copied verbatim (numbers
// stay numbers, see the package comment). A missing "h" falls back to
// Config.HostIdentifier; other missing members are omitted; "version" comes
// from Config.Version and is omitted when empty. Unknown members of the
// element are kept, after "version", in their original order. An object
// with none of the seven short keys (already converted, or some other
// shape) is passed through unchanged. Decorations are not added: osquery
// does not send them to extension loggers.

var statusKeys = [...]struct{ short, long string }{
	{"h", `"hostIdentifier":`},
	{"c", `"calendarTime":`},
	{"u", `"unixTime":`},
	{"s", `"severity":`},
	{"f", `"filename":`},
	{"i", `"line":`},
	{"m", `"message":`},
}

// convertStatus returns the converted line (in p.status) or line itself
// when it is not a status element. Invalid JSON is returned unchanged so
// that scanTop reports it.
func (p *Packer) convertStatus(line []byte) []byte {
	if _, ok := scanTop(line, ""); !ok {
		return line
	}
	var vals [len(statusKeys)]span
	for j := range vals {
		vals[j] = none
	}
	found := false
	hasVersion := false
	it := iterMembers(line, span{0, len(line)})
	for {
		m, ok := it.next()
		if !ok {
			break
		}
		k := line[m.key.s:m.key.e]
		if len(k) == 1 {
			for j := range statusKeys {
				if k[0] == statusKeys[j].short[0] && !vals[j].ok() {
					vals[j] = m.val
					found = true
				}
			}
		} else if string(k) == "version" {
			hasVersion = true
		}
	}
	if !found {
		return line
	}
	out := append(p.status[:0], '{')
	first := true
	sep := func() {
		if !first {
			out = append(out, ',')
		}
		first = false
	}
	for j, k := range statusKeys {
		var v []byte
		switch {
		case vals[j].ok():
			v = line[vals[j].s:vals[j].e]
		case j == 0 && p.hostJSON != nil:
			v = p.hostJSON
		default:
			continue
		}
		sep()
		out = append(out, k.long...)
		out = append(out, v...)
	}
	if p.verJSON != nil && !hasVersion {
		sep()
		out = append(out, `"version":`...)
		out = append(out, p.verJSON...)
	}
	// Unknown members, in order.
	it = iterMembers(line, span{0, len(line)})
	used := [len(statusKeys)]bool{}
	for {
		m, ok := it.next()
		if !ok {
			break
		}
		k := line[m.key.s:m.key.e]
		known := false
		if len(k) == 1 {
			for j := range statusKeys {
				if k[0] == statusKeys[j].short[0] && !used[j] && vals[j] == m.val {
					used[j], known = true, true
				}
			}
		}
		if known {
			continue
		}
		sep()
		out = append(out, line[m.key.s-1:m.key.e+1]...)
		out = append(out, ':')
		out = append(out, line[m.val.s:m.val.e]...)
	}
	out = append(out, '}')
	p.status = out
	return out
}
